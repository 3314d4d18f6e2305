/**
 * The registry of personal-data sources (docs/design.md "Privacy"). Each module declares what it
 * holds about a user: which tables it covers, the columns an export shows (never secrets: no
 * password hashes, token hashes, TOTP secrets or backup-code hashes), one constant query that
 * returns the subject's rows, and an idempotent erasure step. Exports and erasure walk the same
 * list, and `personal-data-sources.db.test.ts` fails when a table that references users is in
 * no source, so a new table cannot be forgotten.
 *
 * Queries take `$1` = the subject's user id and, when the text mentions `$2`, `$2` = the subject's normalised
 * e-mail address (may be null after erasure) and run in the subject's tenant transaction (RLS).
 */
import type { TenantTx } from '@tessera/db';

export interface PrivacySubject {
  userId: string;
  /** Normalised address; null when no user row is left (e.g. replaying an erasure). */
  email: string | null;
}

export interface ErasureContext {
  now: Date;
}

export type ExportRecord = Record<string, unknown>;

export interface PersonalDataSource {
  /** Stable name: JSON key, CSV file name (`<name>.csv`) and PDF heading. */
  readonly name: string;
  /** What it holds, for people (README of the zip, PDF, docs). */
  readonly description: string;
  /** Tables whose user-referencing columns this source covers. */
  readonly tables: readonly string[];
  /** Export columns, in order (CSV header). */
  readonly columns: readonly string[];
  /** SELECT returning the subject's rows with exactly `columns` (quoted camelCase aliases). */
  readonly query: string;
  /** Optional per-row shaping (e.g. put audit pseudonyms back); must return `columns` only. */
  toRecord?(row: ExportRecord, subject: PrivacySubject): ExportRecord;
  /** False when the module's table is not installed in this database (optional modules). */
  isAvailable?(tx: TenantTx): Promise<boolean>;
  /** Removes or anonymises the subject's direct identifiers; safe to run twice. Returns rows touched. */
  erase(tx: TenantTx, subject: PrivacySubject, context: ErasureContext): Promise<number>;
}

/** Runs a constant statement with the subject's parameters and returns the affected row count. */
export async function affected(
  tx: TenantTx,
  text: string,
  values: readonly unknown[],
): Promise<number> {
  const result = await tx.client.query(text, [...values]);
  return result.rowCount ?? 0;
}

/** True when `public.<table>` exists (modules whose migration may not have shipped yet). */
export async function tableExists(tx: TenantTx, table: string): Promise<boolean> {
  const { rows } = await tx.client.query<{ present: boolean }>(
    'SELECT pg_catalog.to_regclass($1) IS NOT NULL AS present',
    [`public.${table}`],
  );
  return rows[0]?.present === true;
}
