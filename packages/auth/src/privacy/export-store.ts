/**
 * Export files in Postgres (docs/design.md "Privacy"): cut into chunks of at most CHUNK_BYTES, each
 * sealed under the keyring with (purpose, tenant, request id, chunk index) as associated data, so
 * any API node can serve a download and a chunk moved, reordered or copied to another export or
 * tenant fails to decrypt. Writing consumes its source one chunk at a time and awaits each
 * insert before pulling more: memory stays flat whatever the export's size.
 */
import { and, asc, eq, gte, lt } from 'drizzle-orm';
import { privacyExportChunks, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';

export const EXPORT_CHUNK_PURPOSE = 'privacy_export.chunk';
export const CHUNK_BYTES = 64 * 1024;

const contextOf = (tenantId: string, requestId: string, chunk: number) => ({
  purpose: EXPORT_CHUNK_PURPOSE,
  tenantId,
  rowId: requestId,
  chunk,
});

/** Removes a request's chunks (an earlier, interrupted attempt's or an expired file's). */
export async function deleteExportChunks(tx: TenantTx, requestId: string): Promise<number> {
  const removed = await tx
    .delete(privacyExportChunks)
    .where(eq(privacyExportChunks.requestId, requestId))
    .returning({ i: privacyExportChunks.chunkIndex });
  return removed.length;
}

/** Writes `data` as encrypted chunks 0..n-1; returns the plaintext size and chunk count. */
export async function writeExportChunks(
  tx: TenantTx,
  keyring: Keyring,
  requestId: string,
  data: AsyncIterable<Uint8Array | string>,
): Promise<{ bytes: number; chunks: number }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  let chunks = 0;
  const flush = async (final: boolean): Promise<void> => {
    while (pendingBytes >= CHUNK_BYTES || (final && pendingBytes > 0)) {
      const all = Buffer.concat(pending);
      const piece = all.subarray(0, CHUNK_BYTES);
      const rest = all.subarray(piece.length);
      pending = rest.length > 0 ? [Buffer.from(rest)] : [];
      pendingBytes = rest.length;
      const ciphertext = keyring.encrypt(piece, contextOf(tx.tenantId, requestId, chunks));
      await tx
        .insert(privacyExportChunks)
        .values({ tenantId: tx.tenantId, requestId, chunkIndex: chunks, ciphertext });
      bytes += piece.length;
      chunks += 1;
    }
  };
  for await (const part of data) {
    const buffer =
      typeof part === 'string'
        ? Buffer.from(part, 'utf8')
        : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    if (buffer.length === 0) continue;
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes >= CHUNK_BYTES) await flush(false);
  }
  await flush(true);
  return { bytes, chunks };
}

/** Decrypts chunks [from, from + count) in order; throws DecryptionError on any tampering. */
export async function readExportChunks(
  tx: TenantTx,
  keyring: Keyring,
  requestId: string,
  from: number,
  count: number,
): Promise<Buffer[]> {
  const rows = await tx
    .select({ index: privacyExportChunks.chunkIndex, ciphertext: privacyExportChunks.ciphertext })
    .from(privacyExportChunks)
    .where(
      and(
        eq(privacyExportChunks.requestId, requestId),
        gte(privacyExportChunks.chunkIndex, from),
        lt(privacyExportChunks.chunkIndex, from + count),
      ),
    )
    .orderBy(asc(privacyExportChunks.chunkIndex));
  return rows.map((row, offset) => {
    if (row.index !== from + offset) throw new Error('export chunk missing');
    return keyring.decrypt(row.ciphertext, contextOf(tx.tenantId, requestId, row.index));
  });
}
