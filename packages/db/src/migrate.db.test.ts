import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { expect, test } from 'vitest';
import { latestMigrationVersion, listMigrations, migrate, MIGRATIONS_DIR } from './migrate.js';
import * as schema from './schema/index.js';
import { useTestDatabase } from './testing/index.js';

const db = useTestDatabase();

test('running the migrator again applies nothing and keeps the version current', async () => {
  const { applied } = await migrate({ ownerUrl: db.ownerUrl });
  expect(applied).toEqual([]);
  const { rows } = await db.app.pool.query<{ v: number }>(
    'SELECT max(version) AS v FROM schema_migrations',
  );
  expect(rows[0]?.v).toBe(latestMigrationVersion());
});

test('a migration edited after it was applied is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-mig-'));
  for (const m of listMigrations())
    copyFileSync(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name));
  const first = listMigrations()[0];
  if (!first) throw new Error('no migrations');
  writeFileSync(path.join(dir, first.name), `${first.sql}\n-- edited\n`);
  await expect(migrate({ ownerUrl: db.ownerUrl, dir })).rejects.toThrow(
    /changed after it was applied/,
  );
});

test('the drizzle schema mirrors the SQL migrations column by column', async () => {
  const tables = Object.values(schema).filter(
    (v): v is typeof schema.users =>
      typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v,
  );
  expect(tables.length).toBeGreaterThanOrEqual(2);
  for (const table of tables) {
    const config = getTableConfig(table);
    const { rows } = await db.owner.pool.query<{
      column_name: string;
      is_nullable: string;
      udt_name: string;
    }>(
      `SELECT column_name, is_nullable, udt_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
      [config.name],
    );
    const sqlColumns = Object.fromEntries(
      rows.map((r) => [r.column_name, { nullable: r.is_nullable === 'YES', type: r.udt_name }]),
    );
    const drizzleColumns = Object.fromEntries(
      config.columns.map((c) => [c.name, { nullable: !c.notNull, type: udtOf(c.getSQLType()) }]),
    );
    expect(drizzleColumns, config.name).toEqual(sqlColumns);
  }
});

function udtOf(sqlType: string): string {
  const map: Record<string, string> = {
    'timestamp with time zone': 'timestamptz',
    integer: 'int4',
    bigint: 'int8',
    boolean: 'bool',
    smallint: 'int2',
  };
  // Arrays: information_schema names `text[]` by its element type's array, `_text`.
  if (sqlType.endsWith('[]')) return `_${udtOf(sqlType.slice(0, -2))}`;
  return map[sqlType] ?? sqlType;
}
