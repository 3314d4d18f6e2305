/**
 * Applies migrations/*.sql in order, once each, as the owner, inside one transaction per file,
 * serialised across processes by an advisory lock. Then makes sure the runtime login role exists
 * as a member of tessera_app (docs/design.md "Runtime and configuration").
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
const LOCK_KEY = 7_314_650_001; // arbitrary, constant: "tessera migrations"

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

export function latestMigrationVersion(dir?: string): number {
  return listMigrations(dir).at(-1)?.version ?? 0;
}

export interface RuntimeRole {
  user: string;
  password: string;
}

export interface MigrateOptions {
  ownerUrl: string;
  /** The login role request traffic uses; created (member of tessera_app) when missing. */
  runtimeRole?: RuntimeRole;
  dir?: string;
  log?: (message: string) => void;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export async function migrate(options: MigrateOptions): Promise<{ applied: string[] }> {
  const client = new pg.Client({
    connectionString: options.ownerUrl,
    application_name: 'tessera-migrate',
  });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<number, string>();
    for (const row of (
      await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM public.schema_migrations',
      )
    ).rows) {
      done.set(row.version, row.checksum);
    }
    const newest = Math.max(0, ...done.keys());
    for (const migration of listMigrations(options.dir)) {
      const known = done.get(migration.version);
      if (known === undefined && migration.version < newest) {
        throw new MigrationError(
          `${migration.name} is older than the newest applied migration (${newest}); migrations apply in order only`,
        );
      }
      if (known !== undefined) {
        if (known !== migration.checksum)
          throw new MigrationError(
            `${migration.name} changed after it was applied; add a new migration instead`,
          );
        continue;
      }
      await applyOne(client, migration);
      applied.push(migration.name);
      options.log?.(`applied ${migration.name}`);
    }
    await client.query('GRANT SELECT ON public.schema_migrations TO tessera_app');
    if (options.runtimeRole) await ensureRuntimeRole(client, options.runtimeRole);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return { applied };
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(
      'INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
      [migration.version, migration.name, migration.checksum],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new MigrationError(
      `${migration.name} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** Creates the login role when missing; an existing role keeps its password. Never grants more than tessera_app. */
async function ensureRuntimeRole(client: pg.Client, role: RuntimeRole): Promise<void> {
  const exists = await client.query<{ unsafe: boolean }>(
    'SELECT rolsuper OR rolbypassrls AS unsafe FROM pg_catalog.pg_roles WHERE rolname = $1',
    [role.user],
  );
  if (exists.rows[0]?.unsafe)
    throw new MigrationError(
      `the runtime role ${role.user} is a superuser or has BYPASSRLS; refusing to make it a member of tessera_app`,
    );
  // format() quotes the name (%I) and password (%L) server-side: DDL cannot take bind parameters.
  const statement = exists.rowCount
    ? await client.query<{ sql: string }>(
        "SELECT format('GRANT tessera_app TO %I', $1::text) AS sql",
        [role.user],
      )
    : await client.query<{ sql: string }>(
        "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS INHERIT IN ROLE tessera_app', $1::text, $2::text) AS sql",
        [role.user, role.password],
      );
  const sql = statement.rows[0]?.sql;
  if (sql) await client.query(sql);
}
