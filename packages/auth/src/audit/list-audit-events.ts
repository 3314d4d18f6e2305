/**
 * Pages through a tenant's audit log, newest first, by seq (a stable order: seq is unique and
 * never reused). Personal data is shown in the clear until it is erased; after erasure the
 * pseudonym token (`pii:<digest>`) stays in its place.
 *
 * Reading that personal data is itself audited (docs/design.md "Privacy"): readAuditEvents records one
 * `audit.log.listed` event per call that returned any (who read, the filter, the ids of the users
 * whose data it held), in the same transaction, never one per row; a page without personal data
 * records nothing (docs/audit-log.md "Reading the log"). Pinned by routers/audit.db.test.ts.
 */
import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { auditLogs, type AuditActorType, type TenantTx } from '@tessera/db';
import { auditPartyNames, type AuditPartyName, type NameVisibility } from './audit-names.js';
import type { JsonValue } from './canonical.js';
import { recordAuditEvent, type AuditActor } from './record-audit-event.js';

export const MAX_AUDIT_PAGE = 100;

export interface ListAuditEventsFilter {
  /** 1..100, default 50. */
  limit?: number | undefined;
  /** Return events with seq below this (the previous page's nextCursor). */
  cursor?: number | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  /** occurredAt >= since */
  since?: Date | undefined;
  /** occurredAt < until */
  until?: Date | undefined;
  /** Only events whose target id is one of these (targetIdsMatching resolves a search). */
  targetIds?: readonly string[] | undefined;
  /** The search text that produced targetIds, recorded in `audit.log.listed`. */
  targetQuery?: string | undefined;
}

export interface AuditEventView {
  seq: number;
  occurredAt: string;
  actor: { type: AuditActorType; id: string | null };
  action: string;
  target: { type: string | null; id: string | null } | null;
  ip: string | null;
  userAgent: string | null;
  before: JsonValue;
  after: JsonValue;
  metadata: JsonValue;
  riskScore: number;
  hash: string;
  redactedAt: string | null;
}

export interface AuditPage {
  items: AuditEventView[];
  nextCursor: number | null;
}

export async function listAuditEvents(
  tx: TenantTx,
  filter: ListAuditEventsFilter = {},
): Promise<AuditPage> {
  const { page, nextCursor } = await selectPage(tx, filter);
  return { items: page.map(toView), nextCursor };
}

/** Who reads the log, for the `audit.log.listed` event. */
export interface AuditReader {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
  now: Date;
}

/** A page as a reader sees it: with the names of its actors and targets that the reader may see. */
export interface NamedAuditPage extends AuditPage {
  names: Record<string, AuditPartyName>;
}

const NO_NAMES: NameVisibility = { users: false, apiKeys: false };

/**
 * listAuditEvents for a reader: the page, the names `visible` allows, and one audit event when it
 * returned personal data (clear values in the rows, or a user's e-mail shown by name).
 */
export async function readAuditEvents(
  tx: TenantTx,
  reader: AuditReader,
  filter: ListAuditEventsFilter = {},
  visible: NameVisibility = NO_NAMES,
): Promise<NamedAuditPage> {
  const { page, nextCursor } = await selectPage(tx, filter);
  const names = await auditPartyNames(
    tx,
    page.flatMap((row) => [row.actorId, row.targetId]),
    visible,
  );
  const named = (id: string | null): boolean => id !== null && names[id]?.kind === 'user';
  const personal = page.filter(
    (row) => holdsPersonalData(row) || named(row.actorId) || named(row.targetId),
  );
  if (personal.length > 0) {
    const subjects = new Set<string>();
    for (const row of personal) {
      if (row.actorType === 'user' && row.actorId !== null) subjects.add(row.actorId);
      if (row.targetType === 'user' && row.targetId !== null) subjects.add(row.targetId);
    }
    await recordAuditEvent(tx, {
      actor: reader.actor,
      action: 'audit.log.listed',
      ip: reader.ip,
      userAgent: reader.userAgent,
      occurredAt: reader.now,
      metadata: {
        filter: describeFilter(filter),
        rows: page.length,
        personalDataRows: personal.length,
        subjects: [...subjects].sort(),
      },
    });
  }
  return { items: page.map(toView), nextCursor, names };
}

/** Clear IP, user agent or e-mail/name values still in the row (erased rows hold none). */
function holdsPersonalData(row: typeof auditLogs.$inferSelect): boolean {
  return row.ip !== null || row.userAgent !== null || Object.keys(row.pii ?? {}).length > 0;
}

function describeFilter(filter: ListAuditEventsFilter): Record<string, string | number> {
  const described: Record<string, string | number> = {};
  if (filter.limit !== undefined) described['limit'] = filter.limit;
  if (filter.cursor !== undefined) described['cursor'] = filter.cursor;
  if (filter.action !== undefined) described['action'] = filter.action;
  if (filter.actorId !== undefined) described['actorId'] = filter.actorId;
  if (filter.since !== undefined) described['since'] = filter.since.toISOString();
  if (filter.until !== undefined) described['until'] = filter.until.toISOString();
  if (filter.targetQuery !== undefined) described['target'] = filter.targetQuery;
  return described;
}

async function selectPage(
  tx: TenantTx,
  filter: ListAuditEventsFilter,
): Promise<{ page: (typeof auditLogs.$inferSelect)[]; nextCursor: number | null }> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), MAX_AUDIT_PAGE);
  const conditions: SQL[] = [];
  if (filter.cursor !== undefined) conditions.push(lt(auditLogs.seq, filter.cursor));
  if (filter.action !== undefined) conditions.push(eq(auditLogs.action, filter.action));
  if (filter.actorId !== undefined) conditions.push(eq(auditLogs.actorId, filter.actorId));
  if (filter.since !== undefined) conditions.push(gte(auditLogs.occurredAt, filter.since));
  if (filter.until !== undefined) conditions.push(lt(auditLogs.occurredAt, filter.until));
  if (filter.targetIds !== undefined)
    conditions.push(
      filter.targetIds.length === 0
        ? sql`false`
        : inArray(auditLogs.targetId, [...filter.targetIds]),
    );
  // No tenant_id filter: RLS scopes the query to tx's tenant (docs/design.md rule 1).
  const rows = await tx
    .select()
    .from(auditLogs)
    .where(and(...conditions))
    .orderBy(desc(auditLogs.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? last.seq : null };
}

function toView(row: typeof auditLogs.$inferSelect): AuditEventView {
  const pii = row.pii ?? {};
  return {
    seq: row.seq,
    occurredAt: row.occurredAt.toISOString(),
    actor: { type: row.actorType, id: row.actorId },
    action: row.action,
    target:
      row.targetType === null && row.targetId === null
        ? null
        : { type: row.targetType, id: reveal(row.targetId, pii) },
    ip: row.ip,
    userAgent: row.userAgent,
    before: reveal((row.before ?? null) as JsonValue, pii),
    after: reveal((row.after ?? null) as JsonValue, pii),
    metadata: reveal(row.metadata as JsonValue, pii),
    riskScore: row.riskScore,
    hash: row.hash.toString('hex'),
    redactedAt: row.redactedAt?.toISOString() ?? null,
  };
}

/** Puts clear values back in place of their tokens, where the row still holds them. */
export function reveal<T extends JsonValue>(value: T, pii: Readonly<Record<string, string>>): T {
  if (typeof value === 'string') return (Object.hasOwn(pii, value) ? pii[value] : value) as T;
  if (Array.isArray(value)) return value.map((item) => reveal(item, pii)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, reveal(item, pii)]),
  ) as T;
}
