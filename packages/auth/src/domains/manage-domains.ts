/**
 * A tenant's domains, managed by its owners and admins (docs/domains.md): add (a pending domain
 * with a fresh random token), verify (the TXT record looked up outside any transaction, then the
 * outcome written and audited), change the settings, remove. Every change is audited in its
 * transaction. One tenant holds a domain at a time: the `tenant_domains_hold_once` trigger
 * (migrations/0026) refuses a second holder, and that refusal is an outcome (`held_elsewhere`),
 * not an error, so its audit event commits.
 */
import { holdsPermission } from '../roles/permissions.js';
import { randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { tenantDomains, withTenant, type Database } from '@tessera/db';
import type { Actor } from '../context/actor.js';
import type { RequestContext } from '../context/deps.js';
import { isUniqueViolation } from '../accounts/sign-up.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { applyRecordCheck, type CheckOutcome } from './apply-check.js';
import { checkVerificationRecord, type TxtLookup } from './dns-check.js';
import { normalizeDomain } from '../shared/domain-name.js';
import { auditDomain, tenantSsoEnabled, toDomainView, type DomainView } from './domain-view.js';

/** Bounds the DNS work a tenant can cause (daily re-checks) and the console's list. */
export const MAX_DOMAINS_PER_TENANT = 20;

export interface DomainSettingsPatch {
  requireSso?: boolean | undefined;
  autoJoin?: boolean | undefined;
}

/** Defence in depth behind the procedures' access (docs/roles.md): the caller holds domains:write. */
function assertManager(actor: Actor): void {
  if (!holdsPermission(actor.role, actor.customPermissions, 'domains:write'))
    throw new AuthError('forbidden');
}

const auditBase = (actor: Actor, request: RequestContext, now: Date) => ({
  actor: { type: 'user' as const, id: actor.userId },
  ip: request.ip,
  userAgent: request.userAgent,
  occurredAt: now,
});

export async function listDomains(db: Database, tenantId: string): Promise<DomainView[]> {
  return withTenant(
    db,
    tenantId,
    async (tx) => {
      const rows = await tx.select().from(tenantDomains).orderBy(asc(tenantDomains.domain));
      const sso = await tenantSsoEnabled(tx);
      return rows.map((row) => toDomainView(row, sso));
    },
    { readOnly: true },
  );
}

export async function addDomain(
  db: Database,
  actor: Actor,
  rawDomain: string,
  request: RequestContext,
  now: Date,
): Promise<DomainView> {
  assertManager(actor);
  const domain = normalizeDomain(rawDomain);
  if (!domain)
    throw new AuthError('invalid_input', {
      detail: 'Enter a domain name such as example.com (not a public suffix such as co.uk).',
      field: 'domain',
    });
  try {
    return await withTenant(db, actor.tenantId, async (tx) => {
      const [{ count } = { count: 0 }] = await tx
        .select({ count: sql<number>`count(*)::int` })
        .from(tenantDomains);
      if (count >= MAX_DOMAINS_PER_TENANT)
        throw new AuthError('invalid_input', {
          detail: `An organisation can have at most ${MAX_DOMAINS_PER_TENANT} domains.`,
          field: 'domain',
        });
      const [row] = await tx
        .insert(tenantDomains)
        .values({
          tenantId: actor.tenantId,
          domain,
          verificationToken: randomBytes(24).toString('base64url'),
          createdAt: now,
        })
        .returning();
      if (!row) throw new Error('domain insert returned nothing');
      await recordAuditEvent(tx, {
        ...auditBase(actor, request, now),
        action: 'domain.added',
        target: { type: 'domain', id: row.id },
        after: auditDomain(row),
      });
      return toDomainView(row, await tenantSsoEnabled(tx));
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AuthError('conflict', {
        detail: 'This domain is already on the list.',
        field: 'domain',
      });
    throw error;
  }
}

async function findDomain(db: Database, tenantId: string, id: string) {
  const [row] = await withTenant(
    db,
    tenantId,
    (tx) => tx.select().from(tenantDomains).where(eq(tenantDomains.id, id)),
    { readOnly: true },
  );
  if (!row) throw new AuthError('not_found');
  return row;
}

export interface DomainDeps {
  lookup: TxtLookup;
  keyring: Keyring;
}

/**
 * Looks the record up now (outside any transaction: no pooled connection waits on DNS), then
 * applies the answer to the locked row as the daily re-check would (apply-check.ts).
 */
export async function verifyDomain(
  db: Database,
  deps: DomainDeps,
  actor: Actor,
  id: string,
  request: RequestContext,
  now: Date,
): Promise<{ outcome: CheckOutcome; domain: DomainView }> {
  assertManager(actor);
  const found = await findDomain(db, actor.tenantId, id);
  const check = await checkVerificationRecord(deps.lookup, found.domain, found.verificationToken);
  return withTenant(db, actor.tenantId, async (tx) => {
    const [row] = await tx
      .select()
      .from(tenantDomains)
      .where(eq(tenantDomains.id, id))
      .for('update');
    if (!row) throw new AuthError('not_found');
    const context = { ...auditBase(actor, request, now), keyring: deps.keyring };
    const result = await applyRecordCheck(tx, row, check, context, now);
    return {
      outcome: result.outcome,
      domain: toDomainView(result.row, await tenantSsoEnabled(tx)),
    };
  });
}

export async function updateDomainSettings(
  db: Database,
  actor: Actor,
  id: string,
  patch: DomainSettingsPatch,
  request: RequestContext,
  now: Date,
): Promise<DomainView> {
  assertManager(actor);
  return withTenant(db, actor.tenantId, async (tx) => {
    const [before] = await tx
      .select()
      .from(tenantDomains)
      .where(eq(tenantDomains.id, id))
      .for('update');
    if (!before) throw new AuthError('not_found');
    const [after] = await tx
      .update(tenantDomains)
      .set({
        requireSso: patch.requireSso ?? before.requireSso,
        autoJoin: patch.autoJoin ?? before.autoJoin,
      })
      .where(eq(tenantDomains.id, id))
      .returning();
    if (!after) throw new AuthError('not_found');
    await recordAuditEvent(tx, {
      ...auditBase(actor, request, now),
      action: 'domain.settings_updated',
      target: { type: 'domain', id },
      before: auditDomain(before),
      after: auditDomain(after),
    });
    return toDomainView(after, await tenantSsoEnabled(tx));
  });
}

export async function removeDomain(
  db: Database,
  actor: Actor,
  id: string,
  request: RequestContext,
  now: Date,
): Promise<void> {
  assertManager(actor);
  await withTenant(db, actor.tenantId, async (tx) => {
    const [removed] = await tx.delete(tenantDomains).where(eq(tenantDomains.id, id)).returning();
    if (!removed) throw new AuthError('not_found');
    await recordAuditEvent(tx, {
      ...auditBase(actor, request, now),
      action: 'domain.removed',
      target: { type: 'domain', id },
      before: auditDomain(removed),
    });
  });
}
