/**
 * `pnpm restore <file|-> [--erasure-ledger <entries.json>]`: restores a `pnpm backup` file into
 * the EMPTY database named by DATABASE_URL (or a fresh embedded home holding the old
 * secrets.json), migrates it, and replays the erasure ledger before anything serves it
 * (docs/design.md "Privacy": people erased after the backup must stay erased). Steps and checks:
 * docs/runbooks/backup-restore.md. Exit codes: 0 done, 1 failed (the ledger replay is part of the
 * restore: a failure there fails the restore), 130 stopped by Ctrl-C.
 *
 * Progress (bytes of the file read) and the summary go to stderr; `--json` makes them JSON lines
 * (docs/deployment.md "Operator CLIs"). Ctrl-C before the data commits rolls it back and leaves
 * the database marked as an interrupted restore, which the same command accepts again; after the
 * commit the restore finishes (migrations, erasure ledger) before it stops.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '@tessera/api';
import { createDatabase, restoreDatabase, type RestoreSummary } from '@tessera/db';
import { ConfigError, loadConfigFromProcess } from '../config.js';
import { runtimeRoleFromUrl } from '../database.js';
import { connectAsOwner, type ErasureLedgerEntry } from './backup.js';
import { ProgressReporter, progressModeOf } from './progress/progress-reporter.js';
import { commonFlags, listenForStop, pacer } from './progress/stop-request.js';

type Keyring = ReturnType<typeof api.parseKeyring>;
type ReplayLedger = typeof api.replayErasureLedger;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readLedgerFile(file: string): Promise<ErasureLedgerEntry[]> {
  const entries = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const valid =
    Array.isArray(entries) &&
    entries.every(
      (e: Partial<ErasureLedgerEntry>) =>
        UUID.test(e.tenantId ?? '') &&
        UUID.test(e.requestId ?? '') &&
        UUID.test(e.userId ?? '') &&
        !Number.isNaN(Date.parse(e.erasedAt ?? '')),
    );
  if (!valid)
    throw new Error(`${file}: expected a JSON array of { tenantId, requestId, userId, erasedAt }`);
  return entries as ErasureLedgerEntry[];
}

export interface RestoreFileOptions {
  ownerUrl: string;
  appUrl: string;
  keyring: Keyring;
  /** Ledger entries saved outside the backup (erasures after it was taken). */
  ledger?: readonly ErasureLedgerEntry[];
  /** Defaults to `replayErasureLedger`; tests may wrap it. */
  replay?: ReplayLedger | undefined;
  log: (line: string) => void;
  /** Stops the restore while it can still roll back (before the data commits). */
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
  afterTable?: () => Promise<void>;
}

/** Restores, then replays the restored database's own ledger and the saved entries as the runtime role. */
export async function restoreFromStream(
  input: AsyncIterable<Uint8Array | string>,
  options: RestoreFileOptions,
): Promise<RestoreSummary> {
  const replay = options.replay ?? api.replayErasureLedger;
  return restoreDatabase(options.ownerUrl, input, {
    runtimeRole: runtimeRoleFromUrl(options.appUrl),
    log: options.log,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.afterTable ? { afterTable: options.afterTable } : {}),
    replayErasureLedger: async () => {
      const database = createDatabase(options.appUrl, {
        max: 2,
        applicationName: 'tessera-restore',
      });
      try {
        const deps = { keyring: options.keyring, now: new Date() };
        const own = await replay(database, deps);
        const saved = options.ledger?.length
          ? await replay(database, deps, options.ledger)
          : { replayed: 0, resurrected: 0 };
        options.log(
          `erasure ledger: ${own.replayed + saved.replayed} entries replayed, ${own.resurrected + saved.resurrected} subjects erased again`,
        );
        return own.replayed + saved.replayed;
      } finally {
        await database.close();
      }
    },
  });
}

function parseArgs(args: readonly string[]): { file: string; ledgerFile: string | undefined } {
  const [file, flag, ledgerFile, ...rest] = args;
  if (
    !file ||
    rest.length > 0 ||
    (flag !== undefined && (flag !== '--erasure-ledger' || !ledgerFile))
  ) {
    throw new Error('usage: pnpm restore [--json] <file|-> [--erasure-ledger <entries.json>]');
  }
  return { file, ledgerFile };
}

async function main(args: readonly string[], progress: ProgressReporter): Promise<number> {
  const log = (line: string): void => progress.log(line);
  const flags = commonFlags(args);
  const { file, ledgerFile } = parseArgs(flags.rest);
  const ledger = ledgerFile ? await readLedgerFile(ledgerFile) : [];
  const config = loadConfigFromProcess();
  const connection = await connectAsOwner(config, log);
  const stop = listenForStop(() =>
    progress.log(
      'stopping: the data loaded so far is rolled back (Ctrl-C again to stop at once); once the data has committed, the restore finishes first',
    ),
  );
  try {
    if (connection.inUse)
      throw new Error(
        'the embedded database is in use by a running server; stop it and restore into a new TESSERA_HOME',
      );
    const keys = config.secrets.DATA_ENCRYPTION_KEYS ?? connection.dev?.DATA_ENCRYPTION_KEYS;
    if (!keys)
      throw new ConfigError(
        ['DATA_ENCRYPTION_KEYS'],
        'restore needs DATA_ENCRYPTION_KEYS (the keys the backup was written under) to replay erasures',
      );
    const input = file === '-' ? process.stdin : createReadStream(path.resolve(file));
    const size = file === '-' ? null : (await stat(path.resolve(file))).size;
    progress.start('backup read', size, 'bytes');
    let summary: Awaited<ReturnType<typeof restoreFromStream>>;
    try {
      summary = await restoreFromStream(input, {
        ownerUrl: connection.ownerUrl,
        appUrl: connection.appUrl,
        keyring: api.parseKeyring(keys),
        ledger,
        log,
        signal: stop.signal,
        onProgress: (bytes) => progress.update(bytes),
        afterTable: pacer(flags.paceMs, stop.signal),
      });
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      return progress.summary(
        'interrupted',
        [
          'restore stopped before its data committed; nothing was restored (the database is migrated and marked as an interrupted restore): run the same command again',
        ],
        {},
      );
    }
    const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
    return progress.summary(
      'ok',
      [
        `restore complete: schema version ${summary.schemaVersion}, ${summary.tables.length} tables, ${rows} rows, ${summary.bytes} bytes`,
      ],
      {
        schemaVersion: summary.schemaVersion,
        tables: summary.tables.length,
        rows,
        bytes: summary.bytes,
        erasureLedger: summary.erasureLedger,
      },
    );
  } finally {
    stop.dispose();
    await connection.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const progress = new ProgressReporter('restore', progressModeOf(process.argv.includes('--json')));
  await main(process.argv.slice(2), progress).then(
    (code) => void (process.exitCode = code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.exitCode = progress.summary('failed', [message], { error: message });
    },
  );
}
