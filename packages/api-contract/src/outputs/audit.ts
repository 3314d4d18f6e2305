import { z } from 'zod';
import { isoInstant, nullableInstant } from './common.js';

export const auditEventOutput = z.object({
  seq: z.number().int(),
  occurredAt: isoInstant,
  actor: z.object({ type: z.enum(['user', 'api_key', 'system']), id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string().nullable(), id: z.string().nullable() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  before: z.json(),
  after: z.json(),
  metadata: z.json(),
  riskScore: z.number(),
  hash: z.string(),
  redactedAt: nullableInstant,
});

/** A user (by e-mail and display name) or API key (by name and prefix) named in the events. */
export const auditPartyNameOutput = z.object({
  kind: z.enum(['user', 'api_key']),
  label: z.string(),
  detail: z.string().nullable(),
});

export const listAuditEventsOutput = z.object({
  items: z.array(auditEventOutput),
  /**
   * Names of the actor and target ids on the page, by id, where the caller may see them (users
   * with `users:read`, keys with `api_keys:read` for API keys). An erased subject's id has none.
   */
  names: z.record(z.string(), auditPartyNameOutput),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.number().int().nullable(),
});

export const verifyAuditChainOutput = z.object({
  valid: z.boolean(),
  /** Rows that verified before the first failure (all rows when valid). */
  checked: z.number().int(),
  firstInvalidSeq: z.number().int().exactOptional(),
});
