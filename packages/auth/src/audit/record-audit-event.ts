/**
 * The only audit writer (docs/contributing.md convention 1, docs/design.md rule 6).
 *
 * Guarantees: the event is inserted in the caller's tenant transaction, so it commits or rolls
 * back with the change it records (an audit failure throws and rolls the change back). It
 * extends the tenant's hash chain at head.seq + 1 through audit_append(), the runtime role's only
 * way to add audit rows: writers of one tenant queue on that tenant's chain-head row lock, so seq
 * is gapless and the chain linear, while other tenants never wait. Secrets in
 * before/after/metadata are redacted; ip, user agent and e-mail addresses enter the chain only
 * as salted digests (docs/audit-log.md).
 *
 * Callers must not: write audit_logs any other way, swallow its errors, or record the event
 * early in a long transaction (the head lock is held until commit; record it last).
 *
 * Pinned by record-audit-event.db.test.ts, audit-concurrency.db.test.ts and
 * audit-tamper.security.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import {
  canonicalAroundSeq,
  canonicalJson,
  chainHash,
  personalDigest,
  piiToken,
  type ChainFields,
  type JsonValue,
} from './canonical.js';
import { defaultRiskScore } from './risk-score.js';
import { cleanString, looksLikeEmail, preparePayload } from './sanitize.js';

export type AuditActor = { type: 'user' | 'api_key' | 'system'; id: string | null };

export interface AuditEventInput {
  actor: AuditActor;
  /** Dotted snake_case ending in a past-tense verb, e.g. 'auth.sign_in.succeeded'. */
  action: string;
  target?: { type: string; id: string | null };
  ip?: string | null;
  /** Longer values are cut to 512 characters. */
  userAgent?: string | null;
  /** Secret keys (password, token, secret, code, hash, key, ...) are redacted by the writer. */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  metadata?: Record<string, unknown>;
  /** 0..100; default from the fixed per-action table (risk-score.ts). */
  riskScore?: number;
  /** Default: now. */
  occurredAt?: Date;
}

export interface RecordedAuditEvent {
  seq: number;
  /** Hex SHA-256 of this row: the new chain head. */
  hash: string;
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR_TYPES = new Set(['user', 'api_key', 'system']);
const MAX_PAYLOAD_CHARS = 64 * 1024;
const MAX_USER_AGENT = 512;
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

interface PreparedEvent {
  fields: Omit<ChainFields, 'seq'>;
  ip: string | null;
  userAgent: string | null;
  pii: Record<string, string> | null;
  salt: Buffer | null;
}

export async function recordAuditEvent(
  tx: TenantTx,
  event: AuditEventInput,
): Promise<RecordedAuditEvent> {
  const prepared = prepareEvent(tx.tenantId, event);
  const row = await appendRow(tx, prepared);
  const seq = Number(row.new_seq);
  // The database hashed the text we sent; hashing the fields here too catches any encoding drift
  // between the two before it can commit (verification would only find it later).
  const expected = chainHash(row.new_prev_hash, { ...prepared.fields, seq });
  if (!expected.equals(row.new_hash)) {
    throw new Error('audit hash mismatch between writer and database');
  }
  return { seq, hash: expected.toString('hex') };
}

interface AppendedRow {
  new_seq: string;
  new_prev_hash: Buffer;
  new_hash: Buffer;
}

/** One round trip under the head lock: audit_append locks the head, allocates seq and hashes. */
async function appendRow(tx: TenantTx, prepared: PreparedEvent): Promise<AppendedRow> {
  const { fields, ip, userAgent, pii, salt } = prepared;
  const { head, tail } = canonicalAroundSeq(fields);
  const { rows } = await tx.client.query<AppendedRow>({
    name: 'tessera_audit_append',
    text: `SELECT new_seq, new_prev_hash, new_hash
           FROM public.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    // prettier-ignore
    values: [
      fields.occurredAt, fields.actorType, fields.actorId, fields.action, fields.targetType, fields.targetId,
      ip, userAgent, jsonParam(pii), salt, hexParam(fields.ipDigest), hexParam(fields.userAgentDigest),
      jsonParam(fields.before), jsonParam(fields.after), jsonParam(fields.metadata), fields.riskScore, head, tail,
    ],
  });
  const row = rows[0];
  if (!row) throw new Error('audit_append returned no row');
  return row;
}

/** Locks the tenant's chain head until the transaction ends and returns it. */
export async function lockChainHead(tx: TenantTx): Promise<{ seq: number; hash: Buffer }> {
  const { rows } = await tx.client.query<{ head_seq: string; head_hash: Buffer }>({
    name: 'tessera_audit_lock_head',
    text: 'SELECT head_seq, head_hash FROM public.audit_lock_head()',
  });
  const row = rows[0];
  if (!row) throw new Error('audit chain head is unavailable');
  return { seq: Number(row.head_seq), hash: row.head_hash };
}

function prepareEvent(tenantId: string, event: AuditEventInput): PreparedEvent {
  const actor = checkActor(event.actor);
  const action = checkAction(event.action);
  const personal = personalDataOf(event);
  const { mask, salt } = personal;
  const before = preparePayload(event.before, mask);
  const after = preparePayload(event.after, mask);
  const metadata = preparePayload(event.metadata ?? {}, mask);
  if (canonicalJson([before, after, metadata]).length > MAX_PAYLOAD_CHARS) {
    throw new TypeError('audit before/after/metadata exceed 64 KiB');
  }
  const targetId = optionalText(event.target?.id, 'target.id', 200);
  const fields: Omit<ChainFields, 'seq'> = {
    tenantId,
    occurredAt: checkDate(event.occurredAt ?? new Date()),
    actorType: actor.type,
    actorId: actor.id,
    action,
    targetType: optionalText(event.target?.type, 'target.type', 100),
    // An id that is an e-mail address (a sign-in for an unknown account) is personal data too.
    targetId: targetId !== null && looksLikeEmail(targetId) ? mask(targetId) : targetId,
    ipDigest: personal.ip === null ? null : personalDigest(salt, personal.ip).toString('hex'),
    userAgentDigest:
      personal.userAgent === null ? null : personalDigest(salt, personal.userAgent).toString('hex'),
    before,
    after,
    metadata,
    riskScore: checkRiskScore(event.riskScore ?? defaultRiskScore(action)),
  };
  const pii = Object.keys(personal.pii).length > 0 ? personal.pii : null;
  const any = personal.ip !== null || personal.userAgent !== null || pii !== null;
  return { fields, ip: personal.ip, userAgent: personal.userAgent, pii, salt: any ? salt : null };
}

/** A fresh per-event salt, the clear ip and user agent, and a `mask` that tokenises other values. */
function personalDataOf(event: AuditEventInput): {
  salt: Buffer;
  ip: string | null;
  userAgent: string | null;
  pii: Record<string, string>;
  mask: (clear: string) => string;
} {
  const salt = randomBytes(16);
  const pii: Record<string, string> = {};
  const mask = (clear: string): string => {
    const token = piiToken(salt, clear);
    pii[token] = clear;
    return token;
  };
  const ip = optionalText(event.ip, 'ip', 64);
  const userAgent = event.userAgent ? cleanString(event.userAgent).slice(0, MAX_USER_AGENT) : null;
  return { salt, ip, userAgent, pii, mask };
}

function checkActor(actor: AuditActor): AuditActor {
  if (!actor || !ACTOR_TYPES.has(actor.type))
    throw new TypeError('audit actor.type must be user, api_key or system');
  return { type: actor.type, id: optionalText(actor.id, 'actor.id', 200) };
}

function checkAction(action: string): string {
  if (typeof action !== 'string' || action.length > 100 || !ACTION.test(action)) {
    throw new TypeError('audit action must be dotted snake_case, e.g. auth.sign_in.succeeded');
  }
  return action;
}

function checkDate(date: Date): string {
  const year = date instanceof Date ? date.getUTCFullYear() : Number.NaN;
  if (!(year >= FIRST_YEAR && year <= LAST_YEAR))
    throw new TypeError('audit occurredAt must be a valid date');
  return date.toISOString();
}

function checkRiskScore(score: number): number {
  if (!Number.isInteger(score) || score < 0 || score > 100)
    throw new TypeError('audit riskScore must be an integer 0..100');
  return score;
}

function optionalText(value: string | null | undefined, name: string, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' || value.length > max)
    throw new TypeError(`audit ${name} must be a string of at most ${max} characters`);
  return cleanString(value);
}

function jsonParam(value: JsonValue | Record<string, string> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function hexParam(hex: string | null): Buffer | null {
  return hex === null ? null : Buffer.from(hex, 'hex');
}
