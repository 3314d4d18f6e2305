/**
 * The canonical form of an audit event and the chain hash (docs/audit-log.md, "Canonical form").
 * A third party re-implements exactly this in docs/audit-verify-example.mjs; change neither
 * without bumping CANONICAL_VERSION and the document.
 */
import { createHash, hash } from 'node:crypto';

export const CANONICAL_VERSION = 'tessera.audit.v1';
/** prev_hash of seq 1: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);
export const PII_TOKEN_PREFIX = 'pii:';

/** A JSON value as stored in jsonb (no undefined, no non-finite numbers). */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The chain-covered fields of one event, in their canonical representation. */
export interface ChainFields {
  tenantId: string;
  seq: number;
  /** ISO-8601 UTC with milliseconds: `2026-03-01T12:00:00.000Z`. */
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** Lower-case hex of SHA-256(salt || ip), or null. */
  ipDigest: string | null;
  userAgentDigest: string | null;
  before: JsonValue;
  after: JsonValue;
  metadata: JsonValue;
  riskScore: number;
}

/**
 * JSON with object keys sorted by UTF-16 code units at every depth and no whitespace: for the
 * values jsonb can hold this is RFC 8785 (JCS) output, since JSON.stringify already serialises
 * numbers and strings the way JCS prescribes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Plain loops and string concatenation: this runs once per row during verification.
  let out = '';
  if (Array.isArray(value)) {
    for (const item of value) out += `,${canonicalJson(item)}`;
    return `[${out.slice(1)}]`;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record).sort())
    out += `,${JSON.stringify(key)}:${canonicalJson(record[key])}`;
  return `{${out.slice(1)}}`;
}

/** canonical(event): the fixed-order array below, as canonical JSON. */
export function canonicalEvent(fields: ChainFields): string {
  const { head, tail } = canonicalAroundSeq(fields);
  return `${head}${canonicalJson(fields.seq)}${tail}`;
}

/**
 * The canonical text before and after seq, so that canonical = head + seq + tail. The writer sends
 * these to audit_append(), which fills in the seq it allocates under the chain-head lock.
 */
export function canonicalAroundSeq(fields: Omit<ChainFields, 'seq'>): {
  head: string;
  tail: string;
} {
  const head = canonicalJson([CANONICAL_VERSION, fields.tenantId]);
  const tail = canonicalJson([
    fields.occurredAt,
    fields.actorType,
    fields.actorId,
    fields.action,
    fields.targetType,
    fields.targetId,
    fields.ipDigest,
    fields.userAgentDigest,
    fields.before,
    fields.after,
    fields.metadata,
    fields.riskScore,
  ]);
  return { head: `${head.slice(0, -1)},`, tail: `,${tail.slice(1)}` };
}

/** hash = SHA-256(prev_hash || UTF-8(canonical(event))). */
export function chainHash(prevHash: Uint8Array, fields: ChainFields): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalEvent(fields), 'utf8').digest();
}

/** Salted digest that stands in the chain for a personal value: SHA-256(salt || UTF-8(value)). */
export function personalDigest(salt: Uint8Array, value: string): Buffer {
  // One-shot hash: cheaper than a Hash object for these short inputs (verification runs it per row).
  return hash('sha256', Buffer.concat([salt, Buffer.from(value, 'utf8')]), 'buffer');
}

/** The pseudonym that replaces a personal value inside before/after/metadata/target id. */
export function piiToken(salt: Uint8Array, value: string): string {
  return `${PII_TOKEN_PREFIX}${personalDigest(salt, value).toString('hex')}`;
}
