/**
 * Streams a tenant's audit log as JSON lines (one ChainRow per line, the form the third-party
 * verifier reads) or CSV (for spreadsheets and SIEMs; cells that a spreadsheet would run as a
 * formula are prefixed with an apostrophe, OWASP "CSV injection", so CSV is not for verifying).
 * Chunks are yielded per batch; nothing holds the whole log in memory.
 */
import type { TenantTx } from '@tessera/db';
import { CHAIN_ROW_KEYS, readChainRows, type ChainRange, type ChainRow } from './audit-rows.js';

export type AuditExportFormat = 'jsonl' | 'csv';

export interface AuditExportOptions extends ChainRange {
  format: AuditExportFormat;
  /** Rows in the chunks yielded so far, called just before each chunk is yielded. */
  onRows?: (rows: number) => void;
}

export const AUDIT_EXPORT_CONTENT_TYPES: Readonly<Record<AuditExportFormat, string>> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

export async function* auditExportChunks(
  tx: TenantTx,
  options: AuditExportOptions,
): AsyncGenerator<string> {
  const batchSize = options.batchSize ?? 1000;
  const line = options.format === 'csv' ? csvLine : jsonLine;
  if (options.format === 'csv') yield `${CHAIN_ROW_KEYS.join(',')}\r\n`;
  let chunk = '';
  let inChunk = 0;
  let rows = 0;
  for await (const row of readChainRows(tx, { ...options, batchSize })) {
    chunk += line(row);
    inChunk += 1;
    if (inChunk === batchSize) {
      rows += inChunk;
      options.onRows?.(rows);
      yield chunk;
      chunk = '';
      inChunk = 0;
    }
  }
  if (chunk !== '') {
    options.onRows?.(rows + inChunk);
    yield chunk;
  }
}

/** One export line: the row's fields in CHAIN_ROW_KEYS order. */
export function jsonLine(row: ChainRow): string {
  return `${JSON.stringify(Object.fromEntries(CHAIN_ROW_KEYS.map((key) => [key, row[key]])))}\n`;
}

function csvLine(row: ChainRow): string {
  return `${CHAIN_ROW_KEYS.map((key) => csvCell(row[key])).join(',')}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
