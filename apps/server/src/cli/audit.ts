/**
 * `node apps/server/dist/cli/audit.js <command>`: the audit log from an operator's shell
 * (docs/audit-log.md). Reads run as the runtime role (APP_DATABASE_URL), so RLS applies; setting
 * retention and pruning also need the owner role (DATABASE_URL), the only role the database lets
 * anchor a prune or delete history. <tenant> is a slug or a tenant id.
 *
 *   verify <tenant> [--public-key B64]...  chain, checkpoints and (with AUDIT_SIGNING_KEY's public key
 *                                          and any extra keys) their signatures; exit 1 when invalid
 *   export <tenant> [--format jsonl|csv] [--after-seq N] [--out FILE] [--json] [--batch-size N]
 *                                          streams the log; audited as audit.log.exported. Progress
 *                                          on stderr (JSON lines with --json); --out is written
 *                                          under a temporary name and renamed when complete, so
 *                                          Ctrl-C (exit 130) leaves no file: run it again
 *   checkpoint <tenant> | --all            signs the chain head(s) now with AUDIT_SIGNING_KEY
 *   set-retention <tenant> <days|none>     retention in days (365..36500; none keeps everything),
 *                                          as the owner; audited as audit.retention.updated
 *   retention --archive-dir DIR            archives, then prunes (as the owner), every tenant past
 *                                          its retention
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  auditExportChunks,
  auditPublicKeyOf,
  recordAuditEvent,
  runAuditRetention,
  setAuditRetention,
  signAuditCheckpoint,
  signDueAuditCheckpoints,
  verifyAuditChain,
  type AuditExportFormat,
} from '@tessera/api';
import {
  createDatabase,
  lookupTenantBySlug,
  withTenant,
  type Database,
  type TenantTx,
} from '@tessera/db';
import { ConfigError, loadConfigFromProcess, type Config } from '../config.js';
import { ProgressReporter, progressModeOf } from './progress/progress-reporter.js';
import { commonFlags, listenForStop, pacer } from './progress/stop-request.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USAGE =
  'usage: audit verify <tenant> [--public-key B64] | export <tenant> [--format jsonl|csv] [--after-seq N] [--out FILE] [--json] [--batch-size N] [--pace-ms N] | checkpoint <tenant>|--all | set-retention <tenant> <days|none> | retention --archive-dir DIR';

type Options = ReturnType<typeof parseCommandLine>['values'];

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'jsonl' },
      'after-seq': { type: 'string' },
      out: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      'archive-dir': { type: 'string' },
      'batch-size': { type: 'string' },
    },
  });
}

async function resolveTenant(database: Database, ref: string | undefined): Promise<string> {
  if (!ref) throw new Error(USAGE);
  if (UUID.test(ref)) return ref.toLowerCase();
  const tenant = await lookupTenantBySlug(database.pool, ref);
  if (!tenant) throw new Error(`no tenant with slug "${ref}"`);
  return tenant.id;
}

function signingKeyOf(config: Config): string {
  const key = config.secrets.AUDIT_SIGNING_KEY;
  if (!key)
    throw new ConfigError(
      ['AUDIT_SIGNING_KEY'],
      'this command needs AUDIT_SIGNING_KEY (Ed25519, PKCS#8 DER base64)',
    );
  return key;
}

async function verify(
  database: Database,
  config: Config,
  tenantRef: string | undefined,
  options: Options,
): Promise<boolean> {
  const tenantId = await resolveTenant(database, tenantRef);
  const keys = [
    ...(config.secrets.AUDIT_SIGNING_KEY ? [config.secrets.AUDIT_SIGNING_KEY] : []),
    ...(options['public-key'] ?? []),
  ].map((k) => auditPublicKeyOf(k));
  if (keys.length === 0)
    log('warning: no AUDIT_SIGNING_KEY or --public-key: checkpoint signatures are not checked');
  const result = await withTenant(
    database,
    tenantId,
    (tx) => verifyAuditChain(tx, keys.length ? { publicKey: keys } : {}),
    { readOnly: true },
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.valid;
}

async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

function exportQueryOf(options: Options): { format: AuditExportFormat; afterSeq: number } {
  const format = options.format;
  if (format !== 'jsonl' && format !== 'csv') throw new Error('--format must be jsonl or csv');
  const afterSeq = options['after-seq'] === undefined ? 0 : Number(options['after-seq']);
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new Error('--after-seq must be a non-negative integer');
  }
  return { format, afterSeq };
}

async function exportLog(
  database: Database,
  tenantRef: string | undefined,
  options: Options,
  flags: { json: boolean; paceMs: number },
): Promise<boolean> {
  const tenantId = await resolveTenant(database, tenantRef);
  const query = exportQueryOf(options);
  const batchSize = options['batch-size'] === undefined ? 1000 : Number(options['batch-size']);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new Error('--batch-size must be between 1 and 10000');
  const file = options.out ? path.resolve(options.out) : null;
  if (
    file &&
    (await access(file).then(
      () => true,
      () => false,
    ))
  )
    throw new Error(`${file} exists; choose a new file name`);
  const progress = new ProgressReporter('audit export', progressModeOf(flags.json));
  // Reading the log reads personal data: the export is itself an audit event (docs/design.md "Privacy").
  await withTenant(database, tenantId, (tx) =>
    recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'audit.log.exported',
      metadata: { ...query, via: 'cli' },
    }),
  );
  const partial = file ? `${file}.partial-${process.pid}` : null;
  const out: Writable = partial
    ? createWriteStream(partial, { flags: 'wx', mode: 0o600 })
    : process.stdout;
  const stop = listenForStop(() =>
    progress.log(
      `stopping${partial ? ': the partial file is deleted' : ''} (Ctrl-C again to stop at once)`,
    ),
  );
  if (partial) stop.cleanup(() => rmSync(partial, { force: true }));
  const pace = pacer(flags.paceMs, stop.signal);
  let written = 0;
  const stream = async (tx: TenantTx): Promise<void> => {
    const { rows } = await tx.client.query<{ n: number }>(
      'SELECT count(*)::float8 AS n FROM public.audit_logs WHERE seq > $1',
      [query.afterSeq],
    );
    progress.start('rows', rows[0]?.n ?? null);
    const onRows = (n: number): void => {
      written = n;
      progress.update(n);
    };
    for await (const chunk of auditExportChunks(tx, { ...query, batchSize, onRows })) {
      await writeChunk(out, chunk);
      if (stop.signal.aborted) return;
      await pace();
    }
  };
  try {
    await withTenant(database, tenantId, stream, { readOnly: true });
    if (partial && file) {
      out.end();
      await once(out, 'finish');
      if (!stop.signal.aborted) await rename(partial, file);
    }
  } catch (error) {
    if (partial) out.destroy();
    throw error;
  } finally {
    stop.dispose();
    if (partial) await rm(partial, { force: true }); // gone already once renamed
  }
  const status = stop.signal.aborted ? 'interrupted' : 'ok';
  const code = progress.summary(
    status,
    [
      status === 'interrupted'
        ? `audit export stopped after ${written} rows${file ? `; nothing was written to ${file}` : '; the output is incomplete'}: run it again`
        : `audit export: ${written} rows${file ? ` -> ${file}` : ''}`,
    ],
    { rows: written, file, format: query.format, afterSeq: query.afterSeq },
  );
  if (code !== 0) process.exitCode = code;
  return code === 0;
}

async function checkpoint(
  database: Database,
  config: Config,
  tenantRef: string | undefined,
  options: Options,
): Promise<void> {
  const signingKey = signingKeyOf(config);
  if (options.all) {
    const { signed, failedTenantIds } = await signDueAuditCheckpoints(database, { signingKey });
    log(
      `signed ${signed} checkpoint(s)${failedTenantIds.length ? `; failed for ${failedTenantIds.join(', ')}` : ''}`,
    );
    return;
  }
  const tenantId = await resolveTenant(database, tenantRef);
  const cp = await withTenant(database, tenantId, (tx) => signAuditCheckpoint(tx, { signingKey }));
  process.stdout.write(`${JSON.stringify(cp)}\n`);
}

/** Archives go to DIR/<tenant id>-<time>.jsonl (created exclusively, 0600) before anything is pruned. */
async function archiveToFile(
  dir: string,
  tenantId: string,
  chunks: AsyncIterable<string>,
): Promise<void> {
  const file = path.join(
    dir,
    `${tenantId}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
  );
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  for await (const chunk of chunks) await writeChunk(out, chunk);
  out.end();
  await once(out, 'finish');
  log(`archived ${tenantId} to ${file}`);
}

/** Runs `work` with a short-lived owner connection (DATABASE_URL). */
async function asOwner<T>(ownerUrl: string, work: (owner: Database) => Promise<T>): Promise<T> {
  const owner = createDatabase(ownerUrl, {
    max: 1,
    applicationName: 'tessera-audit-cli-owner',
  });
  try {
    return await work(owner);
  } finally {
    await owner.close();
  }
}

async function setRetention(
  database: Database,
  ownerUrl: string,
  tenantRef: string | undefined,
  value: string | undefined,
): Promise<void> {
  const tenantId = await resolveTenant(database, tenantRef);
  if (value === undefined || !/^(none|\d{1,6})$/.test(value)) throw new Error(USAGE);
  const days = value === 'none' ? null : Number(value);
  await asOwner(ownerUrl, (owner) =>
    withTenant(owner, tenantId, (tx) => setAuditRetention(tx, { type: 'system', id: null }, days)),
  );
  log(`retention of ${tenantId}: ${days === null ? 'keep everything' : `${days} days`}`);
}

async function retention(
  database: Database,
  ownerUrl: string,
  config: Config,
  options: Options,
): Promise<boolean> {
  const dir = options['archive-dir'];
  if (!dir)
    throw new Error('retention needs --archive-dir DIR: nothing is pruned without an archive');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signingKey = signingKeyOf(config);
  const result = await asOwner(ownerUrl, (owner) =>
    runAuditRetention(
      { runtime: database, owner },
      {
        signingKey,
        publicKey: auditPublicKeyOf(signingKey),
        archive: (tenantId, chunks) => archiveToFile(dir, tenantId, chunks),
      },
    ),
  );
  for (const [tenantId, pruned] of Object.entries(result.pruned))
    log(`pruned ${pruned} row(s) of ${tenantId}`);
  for (const tenantId of result.failedTenantIds)
    log(`retention failed for ${tenantId} (chain broken or archive failed); nothing pruned there`);
  return result.failedTenantIds.length === 0;
}

async function run(argv: string[]): Promise<boolean> {
  const flags = commonFlags(argv);
  const { positionals, values } = parseCommandLine(flags.rest);
  const [command, tenantRef, value] = positionals;
  const config = loadConfigFromProcess();
  if (!config.database)
    throw new ConfigError(
      ['DATABASE_URL', 'APP_DATABASE_URL'],
      'the audit CLI needs DATABASE_URL and APP_DATABASE_URL',
    );
  const database = createDatabase(config.database.appDirectUrl, {
    max: 2,
    applicationName: 'tessera-audit-cli',
  });
  try {
    switch (command) {
      case 'verify':
        return await verify(database, config, tenantRef, values);
      case 'export':
        return await exportLog(database, tenantRef, values, flags);
      case 'checkpoint':
        await checkpoint(database, config, tenantRef, values);
        return true;
      case 'set-retention':
        await setRetention(database, config.database.ownerUrl, tenantRef, value);
        return true;
      case 'retention':
        return await retention(database, config.database.ownerUrl, config, values);
      default:
        throw new Error(USAGE);
    }
  } finally {
    await database.close();
  }
}

try {
  if (!(await run(process.argv.slice(2)))) process.exitCode ??= 1;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (process.argv.includes('--json'))
    process.stderr.write(
      `${JSON.stringify({ type: 'summary', command: 'audit', status: 'failed', exitCode: 1, error: message })}\n`,
    );
  else log(message);
  process.exitCode = 1;
}
