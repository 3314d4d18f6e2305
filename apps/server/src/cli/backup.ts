/**
 * `pnpm backup <file|->`: a consistent logical dump of the database (packages/db/src/backup.ts;
 * docs/runbooks/backup-restore.md). Connects as the owner in DATABASE_URL, or, with the embedded
 * default, to the cluster under TESSERA_HOME (the running one, or started for the backup). The
 * file is created 0600 under a temporary name and renamed when complete, so a file with the final
 * name is always a whole backup; an existing file is never overwritten. `-` writes to stdout, to
 * pipe into an encryption tool (dumps hold personal data: encrypt them).
 *
 * `pnpm backup --erasure-ledger <file.json>` saves only the erasure ledger (ids only) of the live
 * database, to replay after restoring an older backup (`pnpm restore … --erasure-ledger`).
 */
import { createWriteStream } from 'node:fs';
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import * as api from '@tessera/api';
import { backupDatabase, createDatabase, type BackupSummary } from '@tessera/db';
import { ConfigError, loadConfigFromProcess, type Config } from '../config.js';
import { resolveDatabase } from '../database.js';
import type { DevSecrets } from '../dev-secrets.js';

export interface OwnerConnection {
  ownerUrl: string;
  /** The runtime role, directly (APP_DATABASE_DIRECT_URL when set): these tools never go through a pooler. */
  appUrl: string;
  /** An embedded cluster that a server is using right now (restore refuses it). */
  inUse: boolean;
  /** The development secrets of an embedded home, else null. */
  dev: DevSecrets | null;
  stop(): Promise<void>;
}

// As apps/server/src/database.ts names them for the embedded cluster.
const EMBEDDED_DATABASE = 'tessera';
const EMBEDDED_RUNTIME_USER = 'tessera_runtime';

export type { ErasureLedgerEntry } from '@tessera/api';

/** The port of a live embedded postmaster (postmaster.pid line 4), or null. */
async function runningEmbeddedPort(dataDir: string): Promise<number | null> {
  const content = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => null);
  const [pid, , , port] = content?.split('\n') ?? [];
  if (!pid || !port) return null;
  try {
    process.kill(Number(pid), 0);
    return Number(port);
  } catch {
    return null;
  }
}

async function readDevSecrets(home: string): Promise<DevSecrets> {
  const file = path.join(home, 'secrets.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevSecrets;
  } catch {
    throw new ConfigError(
      ['DATABASE_URL', 'TESSERA_HOME'],
      `no DATABASE_URL and no embedded database secrets at ${file}; for a restore into a new home, copy secrets.json of the instance that wrote the backup there first (its DATA_ENCRYPTION_KEYS decrypt the restored data)`,
    );
  }
}

/** Owner access to the configured database; `stop()` stops an embedded cluster this call started. */
export async function connectAsOwner(
  config: Config,
  log: (line: string) => void,
): Promise<OwnerConnection> {
  if (config.database)
    return {
      ownerUrl: config.database.ownerUrl,
      appUrl: config.database.appDirectUrl,
      inUse: false,
      dev: null,
      stop: async () => undefined,
    };
  const dev = await readDevSecrets(config.home);
  const port = await runningEmbeddedPort(path.join(config.home, 'pgdata'));
  if (port !== null) {
    const url = (user: string, password: string): string =>
      `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
    return {
      ownerUrl: url('postgres', dev.postgresPassword),
      appUrl: url(EMBEDDED_RUNTIME_USER, dev.runtimePassword),
      inUse: true,
      dev,
      stop: async () => undefined,
    };
  }
  const urls = await resolveDatabase(config, dev, log);
  return {
    ownerUrl: urls.ownerUrl,
    appUrl: urls.appDirectUrl,
    inUse: false,
    dev,
    stop: async () => urls.embedded?.stop(),
  };
}

/** Writes a whole backup to `file` (mode 0600) or nothing: temporary name, then rename. */
export async function backupToFile(ownerUrl: string, file: string): Promise<BackupSummary> {
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  )
    throw new Error(`${file} exists; choose a new file name`);
  const partial = `${file}.partial-${process.pid}`;
  const output = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  try {
    const summary = await backupDatabase(ownerUrl, output);
    output.end();
    await finished(output);
    await rename(partial, file);
    return summary;
  } catch (error) {
    output.destroy();
    await rm(partial, { force: true });
    throw error;
  }
}

/** Saves the live database's erasure ledger (ids only), 0600, never over an existing file. */
export async function exportErasureLedger(appUrl: string, file: string): Promise<number> {
  const database = createDatabase(appUrl, { max: 2, applicationName: 'tessera-backup' });
  try {
    const entries = await api.readErasureLedger(database);
    await writeFile(file, `${JSON.stringify(entries, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return entries.length;
  } finally {
    await database.close();
  }
}

async function main(args: readonly string[], log: (line: string) => void): Promise<void> {
  const ledgerOnly = args[0] === '--erasure-ledger';
  const file = ledgerOnly ? args[1] : args[0];
  if (!file || args.length !== (ledgerOnly ? 2 : 1))
    throw new Error('usage: pnpm backup <file|-> | pnpm backup --erasure-ledger <file.json>');
  const connection = await connectAsOwner(loadConfigFromProcess(), log);
  try {
    if (ledgerOnly) {
      log(
        `saved ${await exportErasureLedger(connection.appUrl, path.resolve(file))} erasure ledger entries -> ${path.resolve(file)}`,
      );
      return;
    }
    const summary =
      file === '-'
        ? await backupDatabase(connection.ownerUrl, process.stdout)
        : await backupToFile(connection.ownerUrl, path.resolve(file));
    const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
    log(
      `backup complete: schema version ${summary.schemaVersion}, ${summary.tables.length} tables, ${rows} rows, ${summary.bytes} bytes${file === '-' ? '' : ` -> ${path.resolve(file)}`}`,
    );
  } finally {
    await connection.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  await main(process.argv.slice(2), log).catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
