/**
 * `pnpm import-legacy <tenant-slug> <file.csv|file.json>`: imports users with their bcrypt hashes
 * (columns/keys: email, role, password_hash|passwordHash, display_name|displayName). Every row is
 * validated first; one bad row imports nothing. Audited as `user.imported` with a system actor.
 */
import { readFileSync } from 'node:fs';
import { importLegacyUsers, type LegacyUser } from '@tessera/api';
import { createDatabase, lookupTenantBySlug } from '@tessera/db';
import { parse } from 'csv-parse/sync';
import { ConfigError, loadConfigFromProcess } from '../config.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);
type Row = Record<string, unknown>;

function toLegacyUser(row: Row): LegacyUser {
  const text = (...keys: string[]): string => {
    const value = keys.map((k) => row[k]).find((v) => v !== undefined && v !== '');
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  const role = text('role') || 'member';
  if (!['owner', 'admin', 'compliance', 'member'].includes(role))
    throw new Error(`unknown role "${role}" for ${text('email')}`);
  return {
    email: text('email'),
    role: role as LegacyUser['role'],
    passwordHash: text('password_hash', 'passwordHash'),
    displayName: text('display_name', 'displayName') || null,
  };
}

export function readLegacyFile(file: string): LegacyUser[] {
  const content = readFileSync(file, 'utf8');
  const rows = file.endsWith('.json')
    ? (JSON.parse(content) as Row[])
    : parse<Row>(content, { columns: true, skip_empty_lines: true, trim: true });
  if (!Array.isArray(rows)) throw new Error('the JSON file must hold an array of users');
  return rows.map(toLegacyUser);
}

const [slug, file] = process.argv.slice(2);
try {
  if (!slug || !file)
    throw new Error('usage: pnpm import-legacy <tenant-slug> <users.csv|users.json>');
  const config = loadConfigFromProcess();
  if (!config.database)
    throw new ConfigError(
      ['APP_DATABASE_URL'],
      'import-legacy needs DATABASE_URL and APP_DATABASE_URL',
    );
  const database = createDatabase(config.database.appDirectUrl, {
    max: 2,
    applicationName: 'tessera-import',
  });
  try {
    const tenant = await lookupTenantBySlug(database.pool, slug);
    if (!tenant) throw new Error(`no tenant with slug "${slug}"`);
    const result = await importLegacyUsers(
      database,
      tenant.id,
      { type: 'system', id: null, isOwner: true },
      readLegacyFile(file),
      new Date(),
    );
    log(
      `imported ${result.imported}, skipped ${result.skipped.length}${result.skipped.map((s) => `\n  ${s.email}: ${s.reason}`).join('')}`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  log(
    error instanceof Error
      ? ((error as { detail?: string }).detail ?? error.message)
      : String(error),
  );
  process.exitCode = 1;
}
