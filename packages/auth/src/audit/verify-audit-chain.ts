/**
 * Verifies a tenant's audit chain, streaming it in batches (never the whole chain in memory).
 *
 * A row is valid when its seq is the next one, its prev_hash is the previous row's hash, its hash
 * is SHA-256(prev_hash || canonical(row)), its clear personal data (if not yet erased) matches
 * the salted digests the chain covers, and every checkpoint at its seq names its hash. After the
 * last row, the chain must reach the head row and every checkpoint (else the tail was cut). With
 * public keys, every checkpoint must carry a valid Ed25519 signature by one of them: that is what
 * catches an attacker who recomputed the whole chain and rewrote the checkpoints as well.
 *
 * `firstInvalidSeq` is the first seq at which the evidence breaks: an edited, swapped or forged
 * row; the first missing seq of a gap or a cut tail; a checkpoint the chain no longer matches.
 * Pinned by audit-tamper.security.test.ts.
 */
import type { KeyObject } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import { chainHash, GENESIS_HASH, personalDigest, piiToken } from './canonical.js';
import { chainFieldsOf, readChainRows, type ChainRow } from './audit-rows.js';
import {
  auditKeyId,
  auditPublicKeyOf,
  checkpointSignatureValid,
  findPruneAnchor,
  loadCheckpoints,
  type AuditCheckpoint,
  type AuditPublicKey,
} from './checkpoints.js';

export interface VerifyAuditChainOptions {
  /** Trusted checkpoint key(s); pass every key used since the oldest retained checkpoint. */
  publicKey?: AuditPublicKey | readonly AuditPublicKey[] | undefined;
  batchSize?: number;
}

export interface AuditChainVerification {
  valid: boolean;
  /** Rows that verified before the first failure (all rows when valid). */
  checked: number;
  firstInvalidSeq?: number;
}

export async function verifyAuditChain(
  tx: TenantTx,
  options: VerifyAuditChainOptions = {},
): Promise<AuditChainVerification> {
  const anchor = await findPruneAnchor(tx);
  const start = anchor?.seq ?? 0;
  // The head before the rows: each statement sees its own snapshot (READ COMMITTED), so an event
  // committed while the rows stream (audit.list records one) can only add rows beyond this head,
  // never look like a cut tail. A tail really cut keeps the head above the last row either way.
  const head = await headSeq(tx);
  const checkpoints = await loadCheckpoints(tx, start);
  const forgedAt = firstForgedCheckpoint(checkpoints, trustedKeys(options.publicKey));
  const expectedBySeq = new Map<number, string[]>();
  for (const cp of checkpoints)
    expectedBySeq.set(cp.seq, [...(expectedBySeq.get(cp.seq) ?? []), cp.hash]);

  let prev = anchor?.hash ?? GENESIS_HASH.toString('hex');
  let next = start + 1;
  let checked = 0;
  for await (const row of readChainRows(tx, {
    afterSeq: start,
    batchSize: options.batchSize ?? 2000,
  })) {
    if (forgedAt !== null && row.seq >= forgedAt) break;
    const badAt = rowFailure(row, next, prev, expectedBySeq.get(row.seq));
    if (badAt !== null) return invalid(checked, Math.min(badAt, forgedAt ?? badAt));
    prev = row.hash;
    next = row.seq + 1;
    checked += 1;
  }
  const reach = Math.max(head, ...checkpoints.map((cp) => cp.seq));
  const cutAt = reach >= next ? next : null; // the head or a checkpoint lies beyond the last row
  const firstInvalidSeq = Math.min(cutAt ?? Infinity, forgedAt ?? Infinity);
  return Number.isFinite(firstInvalidSeq)
    ? invalid(checked, firstInvalidSeq)
    : { valid: true, checked };
}

function invalid(checked: number, firstInvalidSeq: number): AuditChainVerification {
  return { valid: false, checked, firstInvalidSeq };
}

/**
 * The seq at which this row breaks the chain, or null. Chain hashes are public (they are in every
 * export), so plain string comparison is fine here; timing reveals nothing secret.
 */
function rowFailure(
  row: ChainRow,
  next: number,
  prev: string,
  checkpointHashes: string[] | undefined,
): number | null {
  if (row.seq !== next) return next;
  // eslint-disable-next-line tessera/no-plain-compare-secret -- public chain hash, not a secret
  if (row.prevHash !== prev) return row.seq;
  const computed = chainHash(Buffer.from(prev, 'hex'), chainFieldsOf(row)).toString('hex');
  if (computed !== row.hash) return row.seq;
  if (!personalDataMatches(row)) return row.seq;
  if (checkpointHashes?.some((expected) => expected !== row.hash)) return row.seq;
  return null;
}

/** Clear values still present must be the ones the chain covers through their salted digests. */
export function personalDataMatches(
  row: Pick<ChainRow, 'ip' | 'ipDigest' | 'userAgent' | 'userAgentDigest' | 'pii' | 'piiSalt'>,
): boolean {
  const salt = row.piiSalt === null ? null : Buffer.from(row.piiSalt, 'hex');
  const clear: [string | null, string | null][] = [
    [row.ip, row.ipDigest],
    [row.userAgent, row.userAgentDigest],
  ];
  for (const [value, digest] of clear) {
    if (value === null) continue;
    if (salt === null || digest === null || personalDigest(salt, value).toString('hex') !== digest)
      return false;
  }
  return Object.entries(row.pii ?? {}).every(
    ([token, value]) => salt !== null && token === piiToken(salt, value),
  );
}

function trustedKeys(input: VerifyAuditChainOptions['publicKey']): Map<string, KeyObject> | null {
  if (input === undefined) return null;
  const list: readonly AuditPublicKey[] = Array.isArray(input) ? input : [input as AuditPublicKey];
  return new Map(list.map((key) => [auditKeyId(key), auditPublicKeyOf(key)]));
}

function firstForgedCheckpoint(
  checkpoints: readonly AuditCheckpoint[],
  keys: Map<string, KeyObject> | null,
): number | null {
  if (keys === null) return null;
  const forged = checkpoints.find((cp) => !checkpointSignatureValid(cp, keys));
  return forged?.seq ?? null;
}

async function headSeq(tx: TenantTx): Promise<number> {
  const { rows } = await tx.client.query<{ seq: string }>(
    'SELECT seq::text AS seq FROM public.audit_chain_heads',
  );
  return Number(rows[0]?.seq ?? 0);
}
