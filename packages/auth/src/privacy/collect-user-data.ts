/**
 * Streams a subject's personal data, source by source, with a server-side cursor: at most
 * `batchSize` rows are in memory at once however much the subject has (docs/design.md "Performance budget": export memory
 * stays flat as data grows). Runs in the subject's tenant transaction, so RLS scopes every row.
 */
import type { TenantTx } from '@tessera/db';
import {
  personalDataSources,
  type ExportRecord,
  type PersonalDataSource,
  type PrivacySubject,
} from './sources/index.js';

export interface CollectOptions {
  sources?: readonly PersonalDataSource[];
  /** Rows fetched per round trip (default 500). */
  batchSize?: number;
}

/** The sources present in this database (optional modules may not be installed). */
export async function availableSources(
  tx: TenantTx,
  sources: readonly PersonalDataSource[] = personalDataSources,
): Promise<PersonalDataSource[]> {
  const present: PersonalDataSource[] = [];
  for (const source of sources)
    if (!source.isAvailable || (await source.isAvailable(tx))) present.push(source);
  return present;
}

let cursorCounter = 0;

/** The subject's rows of one source as export records, in the source's order. */
export async function* sourceRecords(
  tx: TenantTx,
  source: PersonalDataSource,
  subject: PrivacySubject,
  batchSize = 500,
): AsyncGenerator<ExportRecord> {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new TypeError('batchSize must be 1..10000');
  const cursor = `tessera_privacy_cursor_${(cursorCounter += 1)}`;
  const values = source.query.includes('$2') ? [subject.userId, subject.email] : [subject.userId];
  // eslint-disable-next-line tessera/no-raw-sql-interpolation -- the cursor name is generated here ([a-z_0-9] only) and the query is a source's constant text; values are bind parameters
  await tx.client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${source.query}`, values);
  try {
    for (;;) {
      const { rows } = await tx.client.query<ExportRecord>(
        // eslint-disable-next-line tessera/no-raw-sql-interpolation -- generated cursor name, no input
        `FETCH FORWARD ${batchSize} FROM ${cursor}`,
      );
      for (const row of rows) yield source.toRecord ? source.toRecord(row, subject) : row;
      if (rows.length < batchSize) break;
    }
  } finally {
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- generated cursor name, no input
    await tx.client.query(`CLOSE ${cursor}`).catch(() => undefined);
  }
}
