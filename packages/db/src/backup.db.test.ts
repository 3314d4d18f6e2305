import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import {
  backupDatabase,
  BackupError,
  dependencyOrder,
  restoreDatabase,
  type RestoreOptions,
} from './backup.js';
import { createDatabase } from './client.js';
import { listMigrations, migrate, MIGRATIONS_DIR } from './migrate.js';
import { withTenant } from './tenant-context.js';
import { clusterUrl, useTestDatabase } from './testing/index.js';

const db = useTestDatabase();
const created: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: clusterUrl(db.info, 'postgres', 'owner') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function emptyDatabase(): Promise<string> {
  const name = `restore_${randomBytes(5).toString('hex')}`;
  // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is generated here ([a-z0-9_] only)
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  return clusterUrl(db.info, name, 'owner');
}

afterAll(async () => {
  await admin(async (c) => {
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- generated names ([a-z0-9_] only)
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

async function dump(url: string): Promise<Buffer> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await backupDatabase(url, sink);
  return Buffer.concat(chunks);
}

/** Feeds the dump in small chunks, so markers and rows straddle chunk boundaries. */
function chunked(file: Buffer, size = 7): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < file.length; i += size) yield file.subarray(i, i + size);
    })(),
  );
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fingerprint of every user table's rows (schema_migrations aside: applied_at differs). */
async function fingerprint(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ t: string }>(
      "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'schema_migrations' ORDER BY 1",
    );
    const out: Record<string, string> = {};
    for (const { t } of tables.rows) {
      out[t] =
        (
          await client.query<{ h: string }>(
            // eslint-disable-next-line tessera/no-raw-sql-interpolation -- the name is quoted by the server (format %I) in the query above
            `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x`,
          )
        ).rows[0]?.h ?? '';
    }
    return out;
  } finally {
    await client.end();
  }
}

const awkward = [
  'tab\there',
  'line\nbreak',
  'back\\slash',
  '\\.',
  '\\',
  'ünïcødé ✓',
  'carriage\rreturn',
];

async function seed(): Promise<{ tenantId: string }> {
  const tenant = await db.seedTenant();
  await db.seedTenant();
  for (const [i, name] of awkward.entries()) {
    await db.owner.pool.query(
      "INSERT INTO users (tenant_id, email, display_name, role, last_login_ip) VALUES ($1, $2, $3, 'member', $4)",
      [tenant.id, `user${i}@example.com`, name, i % 2 ? '203.0.113.7' : null],
    );
  }
  await db.owner.pool.query('UPDATE tenants SET security_policy = $2 WHERE id = $1', [
    tenant.id,
    JSON.stringify({ note: 'tab\t"quote"\n\\.' }),
  ]);
  for (let i = 0; i < 3; i += 1) {
    await db.withTenant(tenant.id, (tx) =>
      tx.execute(
        sql`SELECT * FROM audit_append(now(), 'system', NULL, 'test.event_recorded', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${JSON.stringify({ i })}::jsonb, 0::smallint, 'head', 'tail')`,
      ),
    );
  }
  return { tenantId: tenant.id };
}

describe('round trip', () => {
  test('a restore into an empty database reproduces every row, sequence and the schema version, with the audit guards back on', async () => {
    const { tenantId } = await seed();
    const file = await dump(db.ownerUrl);
    const target = await emptyDatabase();
    const summary = await restoreDatabase(target, chunked(file), {
      runtimeRole: { user: db.info.runtimeUser, password: db.info.runtimePassword },
    });
    expect(summary.bytes).toBe(file.length);
    expect(await fingerprint(target)).toEqual(await fingerprint(db.ownerUrl));
    const names = await query<{ display_name: string }>(
      target,
      'SELECT display_name FROM users WHERE tenant_id = $1 ORDER BY email',
      [tenantId],
    );
    expect(names.map((r) => r.display_name)).toEqual(awkward);
    const versions = 'SELECT max(version) AS v FROM schema_migrations';
    expect(await query(target, versions)).toEqual(await query(db.ownerUrl, versions));
    const sequences =
      "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1";
    expect(await query(target, sequences)).toEqual(await query(db.ownerUrl, sequences));
    // The audit guards are back: history is append-only again and the chain continues.
    await expect(query(target, "UPDATE audit_logs SET action = 'x'")).rejects.toThrow(
      /append-only/,
    );
    const disabled = await query(
      target,
      "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'",
    );
    expect(disabled).toEqual([]);
    const app = createDatabase(clusterUrl(db.info, new URL(target).pathname.slice(1), 'runtime'), {
      max: 1,
    });
    try {
      const result = await withTenant(app, tenantId, (tx) =>
        tx.execute<{ new_seq: string }>(
          sql`SELECT new_seq FROM audit_append(now(), 'system', NULL, 'test.after_restore', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}'::jsonb, 0::smallint, 'h', 't')`,
        ),
      );
      expect(Number(result.rows[0]?.new_seq)).toBeGreaterThan(3);
    } finally {
      await app.close();
    }
  });
});

describe('refusals', () => {
  let seeded: Promise<Buffer> | undefined;
  const seededDump = async (): Promise<Buffer> =>
    Buffer.from(await (seeded ??= seed().then(() => dump(db.ownerUrl))));

  test('a database that is not empty is refused and left untouched', async () => {
    const file = await seededDump();
    const before = await fingerprint(db.ownerUrl);
    await expect(restoreDatabase(db.ownerUrl, Readable.from([file]))).rejects.toThrow(/not empty/);
    expect(await fingerprint(db.ownerUrl)).toEqual(before);
  });

  test('a corrupt file loads nothing: its checksum fails before COMMIT', async () => {
    const file = await seededDump();
    const at = file.indexOf('tab\\there'); // still a valid display name: only the checksum can tell
    file[at + 6] = 'a'.charCodeAt(0);
    const target = await emptyDatabase();
    await expect(restoreDatabase(target, Readable.from([file]))).rejects.toThrow(/SHA-256/);
    expect(await query(target, 'SELECT id FROM users UNION ALL SELECT id FROM tenants')).toEqual(
      [],
    );
    expect(
      await query(
        target,
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'",
      ),
    ).toEqual([]);
  });

  test('a truncated file is refused', async () => {
    const file = await seededDump();
    const target = await emptyDatabase();
    await expect(
      restoreDatabase(target, Readable.from([file.subarray(0, Math.floor(file.length * 0.6))])),
    ).rejects.toThrow(BackupError);
    expect(await query(target, 'SELECT id FROM tenants')).toEqual([]);
  });

  test('a dump from a newer schema version is refused before anything is migrated', async () => {
    const lines = (await seededDump()).toString('utf8').split('\n');
    const header = JSON.parse(lines[1] ?? '{}') as { schemaVersion: number };
    lines[1] = JSON.stringify({ ...header, schemaVersion: header.schemaVersion + 1 });
    const target = await emptyDatabase();
    await expect(restoreDatabase(target, Readable.from([lines.join('\n')]))).rejects.toThrow(
      /newer than this Tessera/,
    );
    expect(await query(target, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'")).toEqual([]);
  });

  test('a role that row-level security would filter can neither back up nor restore', async () => {
    await expect(backupDatabase(db.appUrl, new PassThrough())).rejects.toThrow(/BYPASSRLS/);
  });
});

describe('erasure ledger', () => {
  /** A copy of the real migrations plus one that adds a table named erasure_ledger. */
  function dirWithLedger(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-ledger-'));
    for (const m of listMigrations())
      copyFileSync(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name));
    writeFileSync(
      path.join(dir, '0999_test_erasure_ledger.sql'),
      'CREATE SCHEMA restore_test; CREATE TABLE restore_test.erasure_ledger (user_id uuid PRIMARY KEY);',
    );
    return dir;
  }

  test('when an erasure ledger table exists the hook runs after the restore; without a hook that is reported', async () => {
    const dir = dirWithLedger();
    const source = await emptyDatabase();
    await migrate({ ownerUrl: source, dir });
    await query(source, 'INSERT INTO restore_test.erasure_ledger VALUES ($1)', [randomUUID()]);
    const file = await dump(source);
    const calls: string[] = [];
    const replay: RestoreOptions['replayErasureLedger'] = async ({ ownerUrl }) => {
      calls.push(ownerUrl);
      return Number(
        (
          await query<{ n: number }>(
            ownerUrl,
            'SELECT count(*)::int AS n FROM restore_test.erasure_ledger',
          )
        )[0]?.n,
      );
    };
    const target = await emptyDatabase();
    expect(
      (
        await restoreDatabase(target, Readable.from([file]), {
          migrationsDir: dir,
          replayErasureLedger: replay,
        })
      ).erasureLedger,
    ).toEqual({ replayed: 1 });
    expect(calls).toEqual([target]);
    const other = await emptyDatabase();
    expect(
      (await restoreDatabase(other, Readable.from([file]), { migrationsDir: dir })).erasureLedger,
    ).toBe('not_replayed');
  });
});

test('tables come in foreign-key order; a cycle does not stop the backup', () => {
  const t = (key: string, ...parents: string[]) => ({ key, parents });
  const order = dependencyOrder([
    t('c', 'b'),
    t('b', 'a'),
    t('a'),
    t('x', 'y'),
    t('y', 'x'),
    t('s', 's'),
  ]).map((x) => x.key);
  expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
  expect(order.indexOf('b')).toBeLessThan(order.indexOf('c'));
  expect(order).toHaveLength(6);
});
