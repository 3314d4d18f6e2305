/**
 * What a DNS answer does to a domain, the same for an admin's "verify" and the daily re-check:
 * the record present holds the domain (unless another tenant holds it); the record absent from a
 * held domain suspends it (its settings stop applying, the hold is released, owners and admins are
 * mailed); no answer changes nothing. Runs in the caller's tenant transaction, on a locked row.
 */
import { eq, inArray, isNull, and, sql } from 'drizzle-orm';
import { tenantDomains, tenants, users, type TenantDomainRow, type TenantTx } from '@tessera/db';
import type { AuditActor } from '../audit/record-audit-event.js';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { isUniqueViolation } from '../accounts/sign-up.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import type { RecordCheck } from './dns-check.js';
import { auditDomain } from './domain-view.js';

export type CheckOutcome =
  | 'verified' // held now (newly, again, or still)
  | 'record_missing' // not held: the record is not there
  | 'suspended' // was held, the record is gone
  | 'dns_unavailable' // no answer; nothing changed
  | 'held_elsewhere'; // the record is there, but another tenant holds the domain

export interface CheckContext {
  actor: AuditActor;
  ip: string | null;
  userAgent: string | null;
  keyring: Keyring;
  /** When the check is applied: the time written on the row and its audit event. */
  now: Date;
}

/**
 * Marks the row held under a savepoint (a domain held already keeps its first verification time);
 * false when another tenant holds the domain.
 */
async function hold(tx: TenantTx, row: TenantDomainRow, now: Date): Promise<boolean> {
  await tx.execute(sql`SAVEPOINT hold_domain`);
  try {
    await tx
      .update(tenantDomains)
      .set({ verifiedAt: row.verifiedAt ?? now, suspendedAt: null, lastCheckedAt: now })
      .where(eq(tenantDomains.id, row.id));
    await tx.execute(sql`RELEASE SAVEPOINT hold_domain`);
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // The trigger's unique_violation: the transaction goes on, so the refusal's audit commits.
    await tx.execute(sql`ROLLBACK TO SAVEPOINT hold_domain`);
    return false;
  }
}

function outcomeOf(row: TenantDomainRow, check: RecordCheck, held: boolean): CheckOutcome {
  if (check === 'unreachable') return 'dns_unavailable';
  if (check === 'absent') return row.verifiedAt ? 'suspended' : 'record_missing';
  return held ? 'verified' : 'held_elsewhere';
}

const ACTIONS: Record<CheckOutcome, string | null> = {
  verified: 'domain.verified',
  record_missing: 'domain.verification_failed',
  suspended: 'domain.suspended',
  dns_unavailable: 'domain.verification_failed',
  held_elsewhere: 'domain.verification_failed',
};

/**
 * Applies `check` to the locked `row`; returns the outcome and the row as it is now. `quiet`
 * (the daily re-check) leaves out the audit event of a check that changed nothing.
 */
export async function applyRecordCheck(
  tx: TenantTx,
  row: TenantDomainRow,
  check: RecordCheck,
  context: CheckContext,
  options: { quiet?: boolean } = {},
): Promise<{ outcome: CheckOutcome; row: TenantDomainRow }> {
  const { now } = context;
  const held = check === 'present' && (await hold(tx, row, now));
  const outcome = outcomeOf(row, check, held);
  if (outcome === 'suspended')
    await tx
      .update(tenantDomains)
      .set({ verifiedAt: null, suspendedAt: now, lastCheckedAt: now })
      .where(eq(tenantDomains.id, row.id));
  else if (!held && check !== 'unreachable')
    await tx.update(tenantDomains).set({ lastCheckedAt: now }).where(eq(tenantDomains.id, row.id));
  const [after] = await tx.select().from(tenantDomains).where(eq(tenantDomains.id, row.id));
  if (!after) throw new Error('domain row vanished under its lock');
  const changed =
    Boolean(after.verifiedAt) !== Boolean(row.verifiedAt) ||
    Boolean(after.suspendedAt) !== Boolean(row.suspendedAt);
  if (outcome === 'suspended') await notifyManagers(tx, context.keyring, after.domain, now);
  const action = ACTIONS[outcome];
  if (action && (changed || !options.quiet))
    await recordAuditEvent(tx, {
      actor: context.actor,
      action: outcome === 'verified' && row.suspendedAt ? 'domain.restored' : action,
      target: { type: 'domain', id: row.id },
      ip: context.ip,
      userAgent: context.userAgent,
      before: auditDomain(row),
      after: auditDomain(after),
      metadata: { outcome },
      occurredAt: now,
    });
  return { outcome, row: after };
}

/** Every active owner and admin of the tenant is told, through the outbox, in this transaction. */
async function notifyManagers(
  tx: TenantTx,
  keyring: Keyring,
  domain: string,
  now: Date,
): Promise<void> {
  const [tenant] = await tx.select({ name: tenants.name }).from(tenants);
  const managers = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(inArray(users.role, ['owner', 'admin']), isNull(users.disabledAt)));
  for (const manager of managers)
    await enqueueEmail(
      tx,
      keyring,
      { userId: manager.id, address: manager.email },
      { name: 'domain_verification_lost', tenantName: tenant?.name ?? '', domain },
      now,
    );
}
