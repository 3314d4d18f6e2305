/**
 * Logical backup and restore through COPY (docs/design.md "Jobs and backups": no pg_dump fits the embedded
 * PostgreSQL 18). Backup: one REPEATABLE READ READ ONLY snapshot, `row_security = off` (a role RLS
 * would filter fails instead of writing a partial dump), tables in foreign-key order streamed with
 * `COPY … TO STDOUT`, a SHA-256 trailer. Restore: empty database only; migrate to the dump's schema
 * version, load every table in one transaction with user triggers disabled (the audit guards would
 * refuse rows that already passed them) and foreign keys checked, verify the trailer before COMMIT,
 * migrate to latest, hand the erasure ledger to a hook. SQL names come from the server's own
 * catalog (`format('%I')`); names in a dump are only looked up. Format and reasons:
 * docs/runbooks/backup-restore.md. Pinned by backup.db.test.ts and apps/server/src/cli/backup.db.test.ts.
 *
 * Both take an AbortSignal (checked between COPY chunks) and report progress. A stopped backup
 * leaves its output to the caller (the CLI deletes its temporary file). A restore stopped before
 * its COMMIT rolls the data back and leaves the database migrated and marked with
 * RESTORE_MARKER_TABLE, which a later restore accepts in place of an empty database; once the data
 * is committed the restore finishes (migrations, erasure ledger) whatever the signal says.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { listMigrations, migrate, MIGRATIONS_DIR, type RuntimeRole } from './migrate.js';

export const BACKUP_MAGIC = 'TESSERA-BACKUP 1';

export interface BackupTable {
  schema: string;
  name: string;
  columns: string[];
}
export interface BackupHeader {
  format: 'tessera-backup';
  version: 1;
  schemaVersion: number;
  createdAt: string;
  serverVersion: string;
  migrations: { version: number; name: string; checksum: string }[];
  tables: BackupTable[];
}
export interface BackupSequence {
  schema: string;
  name: string;
  lastValue: string;
}
export interface BackupSummary {
  schemaVersion: number;
  tables: { name: string; rows: number }[];
  bytes: number;
}
export interface RestoreSummary extends BackupSummary {
  erasureLedger: 'absent' | 'not_replayed' | { replayed: number };
}

export interface BackupProgress {
  /** Rows written so far, of about `estimatedRows` (planner statistics; exact for unanalysed tables). */
  rows: number;
  estimatedRows: number;
  bytes: number;
  table: string;
}

export interface BackupOptions {
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
  /** Awaited after each table (the CLI's pacing for tests and demos). */
  afterTable?: () => Promise<void>;
}

/** Created before a restore migrates an empty database, dropped in the transaction that commits its data. */
export const RESTORE_MARKER_TABLE = 'tessera_restore_in_progress';

export interface RestoreOptions {
  /** Checked between COPY chunks until the data commits; a stop before then rolls back. */
  signal?: AbortSignal;
  /** Bytes of the backup consumed so far. */
  onProgress?: (bytes: number) => void;
  /** Awaited after each table is loaded (the CLI's pacing for tests and demos). */
  afterTable?: () => Promise<void>;
  runtimeRole?: RuntimeRole;
  migrationsDir?: string;
  /** Apply migrations newer than the dump after loading it (default true). */
  migrateToLatest?: boolean;
  /** Called after COMMIT when a table named `*erasure_ledger` exists; returns entries applied. */
  replayErasureLedger?: (context: { ownerUrl: string }) => Promise<number>;
  log?: (line: string) => void;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

interface CatalogTable extends BackupTable {
  key: string;
  quoted: string;
  quotedColumns: Map<string, string>;
  parents: string[];
}

const SESSION =
  "SET LOCAL row_security = off; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3";
const RESTORE_SESSION = `${SESSION}; SET CONSTRAINTS ALL DEFERRED`;

/** User tables (not extension-owned, not schema_migrations), identifiers quoted by the server. */
async function readCatalog(client: pg.ClientBase): Promise<CatalogTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    oid: string;
    quoted: string;
    columns: string[];
    quoted_columns: string[];
    parents: string[];
  }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS quoted,
      array(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
            AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum) AS columns,
      array(SELECT format('%I', a.attname) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
            AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum) AS quoted_columns,
      array(SELECT DISTINCT f.confrelid::text FROM pg_catalog.pg_constraint f
            WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS parents
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT (n.nspname = 'public' AND c.relname = 'schema_migrations')
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2`);
  const byOid = new Map(rows.map((r) => [r.oid, `${r.schema}.${r.name}`]));
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    key: `${r.schema}.${r.name}`,
    quoted: r.quoted,
    columns: r.columns,
    quotedColumns: new Map(r.columns.map((c, i) => [c, r.quoted_columns[i] ?? ''])),
    parents: r.parents.flatMap((oid) => byOid.get(oid) ?? []),
  }));
}

/** Parents before children (Kahn); tables in a foreign-key cycle follow in name order. */
export function dependencyOrder<T extends { key: string; parents: string[] }>(
  tables: readonly T[],
): T[] {
  const pending = new Map(tables.map((t) => [t.key, t]));
  const done = new Set<string>();
  const ordered: T[] = [];
  while (pending.size > 0) {
    const ready = [...pending.values()].filter((t) =>
      t.parents.every((p) => done.has(p) || !pending.has(p)),
    );
    for (const table of ready.length > 0 ? ready : [...pending.values()].slice(0, 1)) {
      ordered.push(table);
      done.add(table.key);
      pending.delete(table.key);
    }
  }
  return ordered;
}

async function assertBypassesRls(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>(
    'SELECT rolsuper OR rolbypassrls AS ok FROM pg_catalog.pg_roles WHERE rolname = current_user',
  );
  if (!rows[0]?.ok)
    throw new BackupError(
      'backup and restore need a superuser or a BYPASSRLS role (the owner in DATABASE_URL): FORCE ROW LEVEL SECURITY would hide rows from any other role',
    );
}

const OVER_TABLES = 'AS sql FROM unnest($1::text[], $2::text[]) AS t(s, n)';
const TABLE_STATEMENTS = {
  disableTriggers: `SELECT string_agg(format('ALTER TABLE %I.%I DISABLE TRIGGER USER', s, n), '; ') ${OVER_TABLES}`,
  enableTriggers: `SELECT string_agg(format('ALTER TABLE %I.%I ENABLE TRIGGER USER', s, n), '; ') ${OVER_TABLES}`,
  // Migrations seed some rows (the job queue's version and queues); the dump holds them too.
  truncate: `SELECT 'TRUNCATE ' || string_agg(format('%I.%I', s, n), ', ') ${OVER_TABLES}`,
  lock: `SELECT 'LOCK TABLE ' || string_agg(format('%I.%I', s, n), ', ') || ' IN ACCESS SHARE MODE' ${OVER_TABLES}`,
} as const;

/** Runs one statement over all `tables`, built by the server so every name is quoted by it. */
async function forTables(
  client: pg.ClientBase,
  tables: CatalogTable[],
  statement: keyof typeof TABLE_STATEMENTS,
): Promise<void> {
  const { rows } = await client.query<{ sql: string | null }>(TABLE_STATEMENTS[statement], [
    tables.map((t) => t.schema),
    tables.map((t) => t.name),
  ]);
  if (rows[0]?.sql) await client.query(rows[0].sql);
}

class HashingWriter {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly output: NodeJS.WritableStream) {}
  async write(chunk: Buffer | string): Promise<void> {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    if (!this.output.write(buffer)) await once(this.output, 'drain');
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('stopped before the end (interrupted)');
}

async function copyTableOut(
  client: pg.ClientBase,
  table: CatalogTable,
  writer: HashingWriter,
  onChunk: (rows: number) => void,
  signal: AbortSignal | undefined,
): Promise<number> {
  const columns = table.columns.map((c) => table.quotedColumns.get(c)).join(', ');
  await writer.write(`TABLE ${JSON.stringify(table.key)}\n`);
  let rows = 0;
  for await (const chunk of client.query(
    copyTo(`COPY ${table.quoted} (${columns}) TO STDOUT`),
  ) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows += 1; // one row per line in text format
    await writer.write(chunk);
    onChunk(rows);
    throwIfAborted(signal);
  }
  await writer.write('\\.\n');
  return rows;
}

/** Streams a consistent dump of the database at `ownerUrl` into `output` (which it does not end). */
export async function backupDatabase(
  ownerUrl: string,
  output: NodeJS.WritableStream,
  options: BackupOptions = {},
): Promise<BackupSummary> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'tessera-backup' });
  await client.connect();
  try {
    await assertBypassesRls(client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(SESSION);
    const tables = dependencyOrder(await readCatalog(client));
    await forTables(client, tables, 'lock'); // no DDL on these tables until the dump is done
    const migrations = (
      await client.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM public.schema_migrations ORDER BY version',
      )
    ).rows;
    const serverVersion =
      (await client.query<{ v: string }>('SHOW server_version')).rows[0]?.v ?? '';
    const header: BackupHeader = {
      format: 'tessera-backup',
      version: 1,
      schemaVersion: migrations.at(-1)?.version ?? 0,
      migrations,
      createdAt: new Date().toISOString(),
      serverVersion,
      tables: tables.map(({ schema, name, columns }) => ({ schema, name, columns })),
    };
    const writer = new HashingWriter(output);
    await writer.write(`${BACKUP_MAGIC}\n${JSON.stringify(header)}\n`);
    const counts: { name: string; rows: number }[] = [];
    const estimatedRows = options.onProgress ? await estimateRows(client, tables) : 0;
    let before = 0;
    for (const table of tables) {
      throwIfAborted(options.signal);
      const report = (rows: number): void =>
        options.onProgress?.({
          rows: before + rows,
          estimatedRows,
          bytes: writer.bytes,
          table: table.key,
        });
      const rows = await copyTableOut(client, table, writer, report, options.signal);
      counts.push({ name: table.key, rows });
      before += rows;
      report(0);
      await options.afterTable?.();
    }
    throwIfAborted(options.signal);
    // Sequences are not transactional: read last, so no restored id can be handed out again.
    const sequences = (
      await client.query<BackupSequence>(
        'SELECT schemaname AS schema, sequencename AS name, last_value::text AS "lastValue" FROM pg_catalog.pg_sequences WHERE last_value IS NOT NULL',
      )
    ).rows;
    await writer.write(`SEQUENCES ${JSON.stringify(sequences)}\n`);
    const digest = writer.hash.copy().digest('hex');
    await writer.write(`END ${JSON.stringify({ sha256: digest, tables: counts })}\n`);
    await client.query('COMMIT');
    return { schemaVersion: header.schemaVersion, tables: counts, bytes: writer.bytes };
  } finally {
    await client.end();
  }
}

/** Planner statistics per table; tables never analysed (reltuples -1, usually new and small) are counted. */
async function estimateRows(client: pg.ClientBase, tables: CatalogTable[]): Promise<number> {
  const { rows } = await client.query<{ total: number | null }>(
    `SELECT sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                ELSE (pg_catalog.xpath('/row/n/text()', pg_catalog.query_to_xml(
                        format('SELECT count(*) AS n FROM %I.%I', t.s, t.n), false, true, '')))[1]::text::bigint
                END)::float8 AS total
     FROM unnest($1::text[], $2::text[]) AS t(s, n)
     JOIN pg_catalog.pg_namespace ns ON ns.nspname = t.s
     JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid AND c.relname = t.n`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows[0]?.total ?? 0;
}

const MARKER = Buffer.from('\n\\.\n');
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Reads the framed format from any byte stream, hashing everything it consumes. */
class BackupReader {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  #buffer = Buffer.alloc(0);
  readonly #source: AsyncIterator<Uint8Array | string>;
  constructor(input: AsyncIterable<Uint8Array | string>) {
    this.#source = input[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    const next = await this.#source.next();
    if (next.done) return false;
    this.#buffer = Buffer.concat([
      this.#buffer,
      typeof next.value === 'string' ? Buffer.from(next.value) : next.value,
    ]);
    return true;
  }

  #take(length: number): Buffer {
    const taken = this.#buffer.subarray(0, length);
    this.bytes += taken.length;
    this.#buffer = this.#buffer.subarray(length);
    this.hash.update(taken);
    return taken;
  }

  /** The next line without its newline, and the digest of everything before it. */
  async line(): Promise<{ text: string; digestBefore: string }> {
    for (let end = this.#buffer.indexOf(10); ; end = this.#buffer.indexOf(10)) {
      if (end !== -1) {
        const digestBefore = this.hash.copy().digest('hex');
        return {
          text: this.#take(end + 1)
            .subarray(0, end)
            .toString('utf8'),
          digestBefore,
        };
      }
      if (this.#buffer.length > MAX_LINE_BYTES || !(await this.#fill()))
        throw new BackupError('the backup file is truncated or not a Tessera backup');
    }
  }

  /**
   * COPY text rows up to the `\.` line, in chunks that may split rows (COPY accepts that). In
   * text format a line is exactly `\.` only as the end marker: data backslashes are doubled.
   */
  async *rows(): AsyncGenerator<Buffer> {
    const end = MARKER.subarray(1);
    for (let lineStart = true; ;) {
      if (lineStart && this.#buffer.length >= 3 && this.#buffer.subarray(0, 3).equals(end))
        return void this.#take(3);
      const at = this.#buffer.indexOf(MARKER);
      if (at !== -1) {
        yield this.#take(at + 1);
        return void this.#take(3);
      }
      if (this.#buffer.length > 3) {
        const chunk = this.#take(this.#buffer.length - 3); // keep what could begin a marker
        lineStart = chunk[chunk.length - 1] === 10;
        yield chunk;
      }
      if (!(await this.#fill()))
        throw new BackupError('the backup file is truncated inside a table');
    }
  }
}

function parseHeader(magic: string, json: string, migrationsDir: string): BackupHeader {
  if (magic !== BACKUP_MAGIC) throw new BackupError('not a Tessera backup (format 1)');
  const header = JSON.parse(json) as BackupHeader;
  if (header.format !== 'tessera-backup' || header.version !== 1 || !Array.isArray(header.tables))
    throw new BackupError('unsupported backup header');
  const local = new Map(listMigrations(migrationsDir).map((m) => [m.version, m]));
  const newest = Math.max(0, ...local.keys());
  if (header.schemaVersion > newest)
    throw new BackupError(
      `the backup is at schema version ${header.schemaVersion}, newer than this Tessera (${newest}); restore with the version that wrote it`,
    );
  for (const m of header.migrations) {
    if (local.get(m.version)?.checksum !== m.checksum)
      throw new BackupError(
        `migration ${m.name} in the backup differs from this Tessera's ${local.get(m.version)?.name ?? 'missing file'}`,
      );
  }
  return header;
}

/**
 * 'empty', or 'interrupted' when the only thing here is an earlier restore stopped before its
 * COMMIT (the marker table, migrations and their seed rows, which the load truncates).
 */
async function assertEmpty(client: pg.ClientBase): Promise<'empty' | 'interrupted'> {
  const { rows } = await client.query<{ n: number; marker: boolean }>(
    `SELECT count(*)::int AS n, bool_or(n.nspname = 'public' AND c.relname = $1) AS marker
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`,
    [RESTORE_MARKER_TABLE],
  );
  if (rows[0]?.marker) return 'interrupted';
  if ((rows[0]?.n ?? 0) > 0)
    throw new BackupError(
      'the target database is not empty; restore only into a new, empty database',
    );
  return 'empty';
}

/** An interrupted restore may have migrated up to its own backup's version; this one must not be older. */
async function assertMigratedAtMost(client: pg.ClientBase, version: number): Promise<void> {
  const { rows } = await client.query<{ v: number | null }>(
    "SELECT CASE WHEN pg_catalog.to_regclass('public.schema_migrations') IS NULL THEN NULL ELSE (SELECT max(version) FROM public.schema_migrations) END AS v",
  );
  if ((rows[0]?.v ?? 0) > version)
    throw new BackupError(
      `an interrupted restore already migrated this database to version ${rows[0]?.v}, newer than this backup (${version}); restore into a new, empty database`,
    );
}

async function migrateTo(
  options: RestoreOptions & { ownerUrl: string; migrationsDir: string },
  version: number,
): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-restore-'));
  try {
    for (const m of listMigrations(options.migrationsDir))
      if (m.version <= version) await writeFile(path.join(dir, m.name), m.sql);
    await migrate({
      ownerUrl: options.ownerUrl,
      dir,
      ...(options.runtimeRole ? { runtimeRole: options.runtimeRole } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The dump's tables mapped onto the migrated target's catalog (the only source of SQL names). */
function planTables(
  header: BackupHeader,
  catalog: CatalogTable[],
): { table: CatalogTable; columns: string }[] {
  const byKey = new Map(catalog.map((t) => [t.key, t]));
  return header.tables.map((dumped) => {
    const table = byKey.get(`${dumped.schema}.${dumped.name}`);
    if (!table)
      throw new BackupError(
        `table ${dumped.schema}.${dumped.name} from the backup does not exist at schema version ${header.schemaVersion}`,
      );
    const columns = dumped.columns.map((c) => table.quotedColumns.get(c) ?? '');
    if (columns.includes(''))
      throw new BackupError(`table ${table.key}: the backup's columns do not match the schema`);
    return { table, columns: columns.join(', ') };
  });
}

async function copyTableIn(
  client: pg.ClientBase,
  reader: BackupReader,
  table: CatalogTable,
  columns: string,
  options: RestoreOptions,
): Promise<number> {
  const { text } = await reader.line();
  if (text !== `TABLE ${JSON.stringify(table.key)}`)
    throw new BackupError(
      `expected table ${table.key} in the backup, found "${text.slice(0, 80)}"`,
    );
  const stream = client.query(copyFrom(`COPY ${table.quoted} (${columns}) FROM STDIN`));
  const done = finished(stream);
  done.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  try {
    for await (const chunk of reader.rows()) {
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), done]);
      options.onProgress?.(reader.bytes);
      throwIfAborted(options.signal);
    }
    stream.end();
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error))); // sends CopyFail, frees the connection
    await done.catch(() => undefined);
    throw error;
  }
  await done;
  return Number(stream.rowCount);
}

async function loadData(
  client: pg.ClientBase,
  reader: BackupReader,
  header: BackupHeader,
  options: RestoreOptions,
): Promise<{ name: string; rows: number }[]> {
  const plan = planTables(header, await readCatalog(client));
  await client.query('BEGIN');
  try {
    await client.query(RESTORE_SESSION);
    await forTables(
      client,
      plan.map((p) => p.table),
      'disableTriggers',
    );
    await forTables(
      client,
      plan.map((p) => p.table),
      'truncate',
    );
    const counts: { name: string; rows: number }[] = [];
    for (const { table, columns } of plan) {
      counts.push({
        name: table.key,
        rows: await copyTableIn(client, reader, table, columns, options),
      });
      await options.afterTable?.();
      throwIfAborted(options.signal);
    }
    const sequences = await reader.line();
    if (!sequences.text.startsWith('SEQUENCES '))
      throw new BackupError('the backup has no sequence section');
    const end = await reader.line();
    const trailer = end.text.startsWith('END ')
      ? (JSON.parse(end.text.slice(4)) as {
          sha256: string;
          tables: { name: string; rows: number }[];
        })
      : null;
    if (trailer?.sha256 !== end.digestBefore)
      throw new BackupError('the backup file is corrupt: its SHA-256 does not match');
    if (JSON.stringify(trailer.tables) !== JSON.stringify(counts))
      throw new BackupError('row counts differ from the backup trailer');
    for (const s of JSON.parse(sequences.text.slice(10)) as BackupSequence[]) {
      await client.query(
        "SELECT pg_catalog.setval(format('%I.%I', $1::text, $2::text)::regclass, $3::bigint, true)",
        [s.schema, s.name, s.lastValue],
      );
    }
    await forTables(
      client,
      plan.map((p) => p.table),
      'enableTriggers',
    );
    throwIfAborted(options.signal); // the last moment a stop can still roll everything back
    await client.query('DROP TABLE IF EXISTS public.tessera_restore_in_progress'); // RESTORE_MARKER_TABLE
    await client.query('COMMIT');
    return counts;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Restores a dump into the empty database at `ownerUrl` (see the module comment for the steps). */
export async function restoreDatabase(
  ownerUrl: string,
  input: AsyncIterable<Uint8Array | string>,
  options: RestoreOptions = {},
): Promise<RestoreSummary> {
  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR;
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'tessera-restore' });
  await client.connect();
  try {
    await assertBypassesRls(client);
    const state = await assertEmpty(client);
    const reader = new BackupReader(input);
    const header = parseHeader(
      (await reader.line()).text,
      (await reader.line()).text,
      migrationsDir,
    );
    if (state === 'interrupted') {
      await assertMigratedAtMost(client, header.schemaVersion);
      options.log?.('continuing into a database left by an interrupted restore');
    } else
      await client.query(
        'CREATE TABLE public.tessera_restore_in_progress (started_at timestamptz NOT NULL DEFAULT now())', // RESTORE_MARKER_TABLE
      );
    throwIfAborted(options.signal);
    await migrateTo({ ...options, ownerUrl, migrationsDir }, header.schemaVersion);
    throwIfAborted(options.signal);
    const tables = await loadData(client, reader, header, options);
    options.log?.(
      `restored ${tables.reduce((n, t) => n + t.rows, 0)} rows in ${tables.length} tables at schema version ${header.schemaVersion}`,
    );
    if (options.migrateToLatest !== false)
      await migrate({
        ownerUrl,
        dir: migrationsDir,
        ...(options.runtimeRole ? { runtimeRole: options.runtimeRole } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
    const ledger = await client.query(
      "SELECT 1 FROM pg_catalog.pg_class WHERE relname ~ 'erasure_ledger$' AND relkind IN ('r', 'p')",
    );
    const erasureLedger =
      ledger.rowCount === 0
        ? 'absent'
        : options.replayErasureLedger
          ? { replayed: await options.replayErasureLedger({ ownerUrl }) }
          : 'not_replayed';
    return { schemaVersion: header.schemaVersion, tables, bytes: reader.bytes, erasureLedger };
  } finally {
    await client.end();
  }
}
