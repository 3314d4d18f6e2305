/**
 * The canonical form of an audit event and the chain hash (docs/audit-log.md, "Canonical form").
 * A third party re-implements exactly this in docs/audit-verify-example.mjs; change neither
 * without bumping CANONICAL_VERSION and the document.
 */
import { createHash } from 'node:crypto';

export const CANONICAL_VERSION = 'tessera.audit.v1';
/** prev_hash of seq 1: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);
export const PII_TOKEN_PREFIX = 'pii:';

/** A JSON value as stored in jsonb (no undefined, no non-finite numbers). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

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
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** canonical(event): the fixed-order array below, as canonical JSON. */
export function canonicalEvent(fields: ChainFields): string {
  return canonicalJson([
    CANONICAL_VERSION,
    fields.tenantId,
    fields.seq,
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
}

/** hash = SHA-256(prev_hash || UTF-8(canonical(event))). */
export function chainHash(prevHash: Uint8Array, fields: ChainFields): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalEvent(fields), 'utf8').digest();
}

/** Salted digest that stands in the chain for a personal value: SHA-256(salt || UTF-8(value)). */
export function personalDigest(salt: Uint8Array, value: string): Buffer {
  return createHash('sha256').update(salt).update(value, 'utf8').digest();
}

/** The pseudonym that replaces a personal value inside before/after/metadata/target id. */
export function piiToken(salt: Uint8Array, value: string): string {
  return `${PII_TOKEN_PREFIX}${personalDigest(salt, value).toString('hex')}`;
}
