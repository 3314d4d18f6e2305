/**
 * Audit events for refused keys (docs/design.md "Failure bookkeeping"): written in the key's tenant in a
 * transaction that commits before the refusal is answered, never with the key (prefix only).
 * Only keys that exist can be attributed to a tenant; unknown and malformed keys leave no row.
 *
 * To keep a flood of refused requests from queueing on the tenant's audit chain, one event per key
 * and reason is written per interval, carrying how many refusals it summarises. The count of the
 * refusals in between is not held in memory: each one is committed to `api_key_refusal_tallies`
 * (migration 0021) before it is answered, so a restart, a crash or another API process loses none;
 * the next event reports them, and the scheduled upkeep (flushApiKeyRefusalTallies) writes an event
 * for counts that no later refusal reported. Pinned by refusal-audit.db.test.ts.
 */
import { and, eq, sql } from 'drizzle-orm';
import {
  apiKeyRefusalTallies,
  apiKeys,
  listPendingRefusalTallies,
  withTenant,
  type Database,
  type TenantTx,
} from '@tessera/db';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/index.js';

export type ApiKeyRefusalReason =
  'revoked' | 'expired' | 'ip_not_allowed' | 'rate_limited' | 'quota_exhausted';

/** A tally row that has never had an event: the first refusal is always written. */
const NEVER = new Date(0);
const FLUSH_BATCH = 1_000;

export class RefusalAuditor {
  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  async record(
    key: { id: string; tenantId: string; prefix: string },
    reason: ApiKeyRefusalReason,
    ip: string | null,
    now: Date,
  ): Promise<void> {
    await withTenant({ pool: this.pool }, key.tenantId, async (tx) => {
      const tally = await lockTally(tx, key.id, reason);
      const sinceLast = now.getTime() - tally.lastEventAt.getTime();
      if (sinceLast >= 0 && sinceLast < this.intervalMs) {
        await tx
          .update(apiKeyRefusalTallies)
          .set({ suppressed: sql`${apiKeyRefusalTallies.suppressed} + 1` })
          .where(tallyOf(key.id, reason));
        return;
      }
      await tx
        .update(apiKeyRefusalTallies)
        .set({ suppressed: 0, lastEventAt: now })
        .where(tallyOf(key.id, reason));
      await recordAuditEvent(tx, {
        actor: { type: 'api_key', id: key.id },
        action: 'api_key.refused',
        occurredAt: now,
        ip,
        target: { type: 'api_key', id: key.id },
        metadata: { reason, keyPrefix: key.prefix, refusalsSinceLastEvent: tally.suppressed },
      });
    });
  }
}

/**
 * Writes one `api_key.refused` event (metadata `summaryOnly: true`, no IP) for every key and
 * reason whose refusals no event has reported yet, in every tenant; run by the scheduled upkeep.
 * Returns the number of events written. Idempotent: a reported tally is back at zero.
 */
export async function flushApiKeyRefusalTallies(
  database: Pick<Database, 'pool'>,
  now: Date = new Date(),
): Promise<number> {
  let written = 0;
  for (const pending of await listPendingRefusalTallies(database.pool, FLUSH_BATCH)) {
    written += await withTenant(database, pending.tenantId, async (tx) => {
      const [tally] = await tx
        .select()
        .from(apiKeyRefusalTallies)
        .where(tallyOf(pending.apiKeyId, pending.reason))
        .for('update');
      if (!tally || tally.suppressed === 0) return 0;
      const [key] = await tx
        .select({ prefix: apiKeys.prefix })
        .from(apiKeys)
        .where(eq(apiKeys.id, pending.apiKeyId));
      await tx
        .update(apiKeyRefusalTallies)
        .set({ suppressed: 0, lastEventAt: now })
        .where(tallyOf(pending.apiKeyId, pending.reason));
      await recordAuditEvent(tx, {
        actor: { type: 'api_key', id: pending.apiKeyId },
        action: 'api_key.refused',
        occurredAt: now,
        target: { type: 'api_key', id: pending.apiKeyId },
        metadata: {
          reason: pending.reason,
          keyPrefix: key?.prefix ?? null,
          refusalsSinceLastEvent: tally.suppressed,
          summaryOnly: true,
        },
      });
      return 1;
    });
  }
  return written;
}

function tallyOf(apiKeyId: string, reason: string) {
  // No tenant_id filter: RLS scopes the row to the transaction's tenant (docs/design.md rule 1).
  return and(eq(apiKeyRefusalTallies.apiKeyId, apiKeyId), eq(apiKeyRefusalTallies.reason, reason));
}

/** Creates the row on first use and locks it (one round trip): refusals of one key queue here. */
async function lockTally(
  tx: TenantTx,
  apiKeyId: string,
  reason: ApiKeyRefusalReason,
): Promise<{ lastEventAt: Date; suppressed: number }> {
  const [row] = await tx
    .insert(apiKeyRefusalTallies)
    .values({ tenantId: tx.tenantId, apiKeyId, reason, lastEventAt: NEVER, suppressed: 0 })
    .onConflictDoUpdate({
      target: [
        apiKeyRefusalTallies.tenantId,
        apiKeyRefusalTallies.apiKeyId,
        apiKeyRefusalTallies.reason,
      ],
      set: { suppressed: sql`${apiKeyRefusalTallies.suppressed}` },
    })
    .returning({
      lastEventAt: apiKeyRefusalTallies.lastEventAt,
      suppressed: apiKeyRefusalTallies.suppressed,
    });
  if (!row) throw new Error('refusal tally upsert returned nothing');
  return row;
}
