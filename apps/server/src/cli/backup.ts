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
 *
 * Progress (rows of an estimated total) and the summary go to stderr; `--json` makes them JSON
 * lines (docs/deployment.md "Operator CLIs"). Ctrl-C stops between COPY chunks, deletes the
 * temporary file and exits 130; a backup has no partial state, so run it again to start over.
 * Temporary files left by a killed backup (its process gone) are removed by the next backup to
 * the same name.
 */
import { createWriteStream } from 'node:fs';
import { rmSync } from 'node:fs';
import { access, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import * as api from '@tessera/api';
import {
  backupDatabase,
  createDatabase,
  type BackupOptions,
  type BackupSummary,
} from '@tessera/db';
import { ConfigError, loadConfigFromProcess, type Config } from '../config.js';
import { resolveDatabase } from '../database.js';
import type { DevSecrets } from '../dev-secrets.js';
import { ProgressReporter, progressModeOf } from './progress/progress-reporter.js';
import { commonFlags, listenForStop, pacer, type StopRequest } from './progress/stop-request.js';

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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<file>.partial-<pid>` files whose process is gone (a backup killed with SIGKILL). */
async function removeStalePartials(file: string): Promise<string[]> {
  const prefix = `${path.basename(file)}.partial-`;
  const removed: string[] = [];
  for (const name of await readdir(path.dirname(file)).catch(() => [])) {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isSafeInteger(pid) || pid <= 0 || processAlive(pid))
      continue;
    await rm(path.join(path.dirname(file), name), { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes a whole backup to `file` (mode 0600) or nothing: temporary name, then rename. With
 * `stop`, a forced stop (second Ctrl-C) also removes the temporary file.
 */
export async function backupToFile(
  ownerUrl: string,
  file: string,
  options: BackupOptions & { stop?: StopRequest } = {},
): Promise<BackupSummary> {
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  )
    throw new Error(`${file} exists; choose a new file name`);
  await removeStalePartials(file);
  const partial = `${file}.partial-${process.pid}`;
  const output = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  options.stop?.cleanup(() => rmSync(partial, { force: true }));
  try {
    const summary = await backupDatabase(ownerUrl, output, options);
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

async function main(args: readonly string[], progress: ProgressReporter): Promise<number> {
  const log = (line: string): void => progress.log(line);
  const { paceMs, rest } = commonFlags(args);
  const ledgerOnly = rest[0] === '--erasure-ledger';
  const file = ledgerOnly ? rest[1] : rest[0];
  if (!file || rest.length !== (ledgerOnly ? 2 : 1))
    throw new Error(
      'usage: pnpm backup [--json] <file|-> | pnpm backup --erasure-ledger <file.json>',
    );
  const connection = await connectAsOwner(loadConfigFromProcess(), log);
  const stop = listenForStop(() =>
    progress.log('stopping: the partial backup is deleted (Ctrl-C again to stop at once)'),
  );
  try {
    if (ledgerOnly) {
      const entries = await exportErasureLedger(connection.appUrl, path.resolve(file));
      return progress.summary(
        'ok',
        [`saved ${entries} erasure ledger entries -> ${path.resolve(file)}`],
        { entries, file: path.resolve(file) },
      );
    }
    const options: BackupOptions & { stop: StopRequest } = {
      stop,
      signal: stop.signal,
      afterTable: pacer(paceMs, stop.signal),
      onProgress: (p) => progress.update(p.rows, Math.max(p.estimatedRows, p.rows)),
    };
    progress.start('rows', null);
    let summary: BackupSummary;
    try {
      summary =
        file === '-'
          ? await backupDatabase(connection.ownerUrl, process.stdout, options)
          : await backupToFile(connection.ownerUrl, path.resolve(file), options);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      return progress.summary(
        'interrupted',
        [
          file === '-'
            ? 'backup stopped; what went to stdout is incomplete: discard it and run the backup again'
            : `backup stopped; nothing was written to ${path.resolve(file)} (the partial file is deleted): run the backup again`,
        ],
        { file: file === '-' ? null : path.resolve(file) },
      );
    }
    const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
    return progress.summary(
      'ok',
      [
        `backup complete: schema version ${summary.schemaVersion}, ${summary.tables.length} tables, ${rows} rows, ${summary.bytes} bytes${file === '-' ? '' : ` -> ${path.resolve(file)}`}`,
      ],
      {
        schemaVersion: summary.schemaVersion,
        tables: summary.tables.length,
        rows,
        bytes: summary.bytes,
        file: file === '-' ? null : path.resolve(file),
      },
    );
  } finally {
    stop.dispose();
    await connection.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const progress = new ProgressReporter('backup', progressModeOf(process.argv.includes('--json')));
  await main(process.argv.slice(2), progress).then(
    (code) => void (process.exitCode = code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.exitCode = progress.summary('failed', [message], { error: message });
    },
  );
}
