/**
 * The daily re-check of held and suspended domains (docs/domains.md "Re-verification"), run by the
 * worker's maintenance job. Due domains are listed across tenants through a SECURITY DEFINER
 * function returning (tenant_id, id) only, on the database clock (docs/design.md "Decisions");
 * each is looked up with no transaction open and then handled inside its tenant's transaction.
 * A DNS failure that is not an answer is tried again about an hour later and changes nothing.
 */
import { eq } from 'drizzle-orm';
import { listDueDomainChecks, tenantDomains, withTenant, type Database } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { applyRecordCheck, type CheckOutcome } from './apply-check.js';
import { checkVerificationRecord, type TxtLookup } from './dns-check.js';

export const REVERIFY_BATCH = 50;
const PARALLEL = 5;
const RETRY_AFTER_UNANSWERED_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

export interface ReverifyDeps {
  database: Database;
  keyring: Keyring;
  lookup: TxtLookup;
}

export type ReverifyResult = Record<CheckOutcome, number>;

export async function reverifyDueDomains(
  deps: ReverifyDeps,
  now: Date,
  limit = REVERIFY_BATCH,
): Promise<ReverifyResult> {
  const result: ReverifyResult = {
    verified: 0,
    record_missing: 0,
    suspended: 0,
    dns_unavailable: 0,
    held_elsewhere: 0,
  };
  const due = await listDueDomainChecks(deps.database.pool, limit);
  // A few at a time: unanswered lookups wait out their timeouts side by side, not in a row.
  for (let i = 0; i < due.length; i += PARALLEL) {
    const outcomes = await Promise.all(
      due.slice(i, i + PARALLEL).map((ref) => reverifyOne(deps, ref, now)),
    );
    for (const outcome of outcomes) if (outcome) result[outcome] += 1;
  }
  return result;
}

async function reverifyOne(
  deps: ReverifyDeps,
  ref: { tenantId: string; id: string },
  now: Date,
): Promise<CheckOutcome | null> {
  const [found] = await withTenant(
    deps.database,
    ref.tenantId,
    (tx) => tx.select().from(tenantDomains).where(eq(tenantDomains.id, ref.id)),
    { readOnly: true },
  );
  if (!found) return null; // removed since it was listed
  const check = await checkVerificationRecord(deps.lookup, found.domain, found.verificationToken);
  return withTenant(deps.database, ref.tenantId, async (tx) => {
    const [row] = await tx
      .select()
      .from(tenantDomains)
      .where(eq(tenantDomains.id, ref.id))
      .for('update');
    if (!row) return null;
    const context = {
      actor: { type: 'system' as const, id: null },
      ip: null,
      userAgent: null,
      keyring: deps.keyring,
      now,
    };
    const { outcome } = await applyRecordCheck(tx, row, check, context, { quiet: true });
    if (outcome === 'dns_unavailable')
      // Due again in about an hour: last_checked_at a day minus an hour ago.
      await tx
        .update(tenantDomains)
        .set({ lastCheckedAt: new Date(now.getTime() - DAY_MS + RETRY_AFTER_UNANSWERED_MS) })
        .where(eq(tenantDomains.id, ref.id));
    return outcome;
  });
}
