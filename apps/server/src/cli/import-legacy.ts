/**
 * `pnpm import-legacy <tenant-slug> <file.csv|file.json> [--json] [--batch-size N] [--pace-ms N]`: imports users
 * with their bcrypt hashes (columns/keys: email, role, password_hash|passwordHash,
 * display_name|displayName). Rows that cannot be imported (bad e-mail, not bcrypt, cost too high,
 * unknown role) are refused and listed with their line (CSV) or item (JSON) number; every other
 * row is imported in batches of up to 1,000, each batch one transaction audited as `user.imported`
 * with a system actor. Refused rows make the exit code 1. Users already in the tenant are skipped,
 * so after Ctrl-C (exit 130, the current batch commits or rolls back as a whole) or after fixing
 * refused rows, running the same command again continues where it stopped. Progress and summary:
 * docs/deployment.md "Operator CLIs".
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  checkLegacyUser,
  importLegacyUsers,
  MAX_IMPORT_ROWS,
  normalizeEmail,
  type LegacyUser,
} from '@tessera/api';
import { createDatabase, lookupTenantBySlug, withTenant } from '@tessera/db';
import { parse } from 'csv-parse/sync';
import { ConfigError, loadConfigFromProcess } from '../config.js';
import { ProgressReporter, progressModeOf } from './progress/progress-reporter.js';
import { commonFlags, listenForStop, pacer } from './progress/stop-request.js';

const USAGE =
  'usage: pnpm import-legacy <tenant-slug> <users.csv|users.json> [--json] [--batch-size N] [--pace-ms N]';
const ROLES = ['owner', 'admin', 'compliance', 'member'];
/** Refused or duplicate rows listed in the human summary; --json lists them all. */
const LISTED = 50;

type Row = Record<string, unknown>;

export interface LegacyFileRow {
  /** "line 12" in a CSV file (the line the record ends on), "item 3" in a JSON array. */
  where: string;
  user: LegacyUser;
}

function toLegacyUser(row: Row): LegacyUser {
  const text = (...keys: string[]): string => {
    const value = keys.map((k) => row[k]).find((v) => v !== undefined && v !== '');
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  return {
    email: text('email'),
    role: (text('role') || 'member') as LegacyUser['role'],
    passwordHash: text('password_hash', 'passwordHash'),
    displayName: text('display_name', 'displayName') || null,
  };
}

export function readLegacyFile(file: string): LegacyFileRow[] {
  const content = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const rows = JSON.parse(content) as unknown;
    if (!Array.isArray(rows)) throw new Error('the JSON file must hold an array of users');
    return rows.map((row: Row, i) => ({ where: `item ${i + 1}`, user: toLegacyUser(row) }));
  }
  const records = parse<Row>(content, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
  }) as unknown as { record: Row; info: { lines: number } }[];
  return records.map(({ record, info }) => ({
    where: `line ${info.lines}`,
    user: toLegacyUser(record),
  }));
}

interface Listed {
  where: string;
  email: string;
  reason: string;
}

function listLines(title: string, rows: Listed[]): string[] {
  if (rows.length === 0) return [];
  const shown = rows
    .slice(0, LISTED)
    .map((r) => `  ${r.where}${r.email ? ` (${r.email})` : ''}: ${r.reason}`);
  const more =
    rows.length > LISTED ? [`  ... and ${rows.length - LISTED} more (--json lists all)`] : [];
  return [title, ...shown, ...more];
}

async function run(argv: string[], progress: ProgressReporter): Promise<number> {
  const { paceMs, rest } = commonFlags(argv);
  const { positionals, values } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { 'batch-size': { type: 'string' } },
  });
  const [slug, file] = positionals;
  const batchSize = Number(values['batch-size'] ?? MAX_IMPORT_ROWS);
  if (!slug || !file || positionals.length !== 2) throw new Error(USAGE);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_IMPORT_ROWS)
    throw new Error(`--batch-size must be between 1 and ${MAX_IMPORT_ROWS}`);
  const config = loadConfigFromProcess();
  if (!config.database)
    throw new ConfigError(
      ['APP_DATABASE_URL'],
      'import-legacy needs DATABASE_URL and APP_DATABASE_URL',
    );
  const rows = readLegacyFile(file);

  // Sort every row into refused, duplicate (a later row with an e-mail seen before) or to import.
  const refused: Listed[] = [];
  const duplicates: Listed[] = [];
  const seen = new Set<string>();
  const valid: LegacyFileRow[] = [];
  for (const row of rows) {
    const email = normalizeEmail(row.user.email);
    const problem = ROLES.includes(row.user.role)
      ? checkLegacyUser(row.user, true)?.reason
      : `unknown role "${row.user.role}".`;
    if (problem) refused.push({ where: row.where, email: row.user.email, reason: problem });
    else if (seen.has(email))
      duplicates.push({ where: row.where, email, reason: 'e-mail already earlier in the file' });
    else {
      seen.add(email);
      valid.push(row);
    }
  }

  const database = createDatabase(config.database.appDirectUrl, {
    max: 2,
    applicationName: 'tessera-import',
  });
  const stop = listenForStop(() =>
    progress.log('stopping after the current batch (Ctrl-C again to stop at once)'),
  );
  const pace = pacer(paceMs, stop.signal);
  let imported = 0;
  const present: Listed[] = [];
  let done = refused.length + duplicates.length;
  try {
    const tenant = await lookupTenantBySlug(database.pool, slug);
    if (!tenant) throw new Error(`no tenant with slug "${slug}"`);
    progress.start('users', rows.length);
    progress.update(done);
    for (let at = 0; at < valid.length && !stop.signal.aborted; at += batchSize) {
      const batch = valid.slice(at, at + batchSize);
      const result = await withTenant(database, tenant.id, (tx) =>
        importLegacyUsers(
          tx,
          { type: 'system', id: null, isOwner: true },
          batch.map((r) => r.user),
          new Date(),
        ),
      );
      imported += result.imported;
      const where = new Map(batch.map((r) => [normalizeEmail(r.user.email), r.where]));
      for (const s of result.skipped)
        present.push({ where: where.get(s.email) ?? '?', email: s.email, reason: s.reason });
      done += batch.length;
      progress.update(done);
      await pace();
    }
  } finally {
    stop.dispose();
    await database.close();
  }

  const interrupted = stop.signal.aborted && done < rows.length;
  const status = interrupted ? 'interrupted' : refused.length > 0 ? 'partial' : 'ok';
  const head = `import-legacy: ${rows.length} rows: imported ${imported}, already present ${present.length}, duplicates in the file ${duplicates.length}, refused ${refused.length}`;
  return progress.summary(
    status,
    [
      head,
      ...(interrupted
        ? [
            `stopped after ${done} of ${rows.length} rows; run the same command again to continue (imported users are skipped as already present)`,
          ]
        : []),
      ...listLines('refused (fix these rows and run again):', refused),
      ...listLines('duplicates in the file (skipped):', duplicates),
    ],
    {
      rows: rows.length,
      processed: done,
      imported,
      alreadyPresent: present.length,
      duplicates,
      refused,
    },
  );
}

const progress = new ProgressReporter(
  'import-legacy',
  progressModeOf(process.argv.includes('--json')),
);
try {
  process.exitCode = await run(process.argv.slice(2), progress);
} catch (error) {
  const message =
    error instanceof Error
      ? ((error as { detail?: string }).detail ?? error.message)
      : String(error);
  process.exitCode = progress.summary('failed', [message], { error: message });
}
