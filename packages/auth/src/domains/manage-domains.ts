/**
 * A tenant's domains, managed by its owners and admins (docs/domains.md): add (a pending domain
 * with a fresh random token), verify (the row read, the TXT record looked up outside any
 * transaction, then the outcome written and audited: three steps the procedure takes in turn),
 * change the settings, remove. Each runs in the caller's tenant transaction (`ctx.withTenant`) and
 * every change is audited in it. One tenant holds a domain at a time: the `tenant_domains_hold_once` trigger
 * (migrations/0026) refuses a second holder, and that refusal is an outcome (`held_elsewhere`),
 * not an error, so its audit event commits.
 */
import { holdsPermission } from '../roles/permissions.js';
import { randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { tenantDomains, type TenantDomainRow, type TenantTx } from '@tessera/db';
import type { Actor } from '../context/actor.js';
import type { RequestContext } from '../context/deps.js';
import type { TenantUseCase } from '../context/use-case.js';
import { isUniqueViolation } from '../accounts/sign-up.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import type { Keyring } from '../crypto/keyring.js';
import { applyRecordCheck, type CheckOutcome } from './apply-check.js';
import { checkVerificationRecord, type RecordCheck, type TxtLookup } from './dns-check.js';
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

/** The tenant's domains, in the caller's (read-only) tenant transaction. */
export async function listDomains(tx: TenantTx): Promise<DomainView[]> {
  const rows = await tx.select().from(tenantDomains).orderBy(asc(tenantDomains.domain));
  const sso = await tenantSsoEnabled(tx);
  return rows.map((row) => toDomainView(row, sso));
}

/** Adds a pending domain with a fresh token, in the caller's tenant transaction. */
export async function addDomain(
  tx: TenantTx,
  uc: TenantUseCase,
  rawDomain: string,
): Promise<DomainView> {
  const { actor, request, now } = uc;
  assertManager(actor);
  const domain = normalizeDomain(rawDomain);
  if (!domain)
    throw new AuthError('invalid_input', {
      detail: 'Enter a domain name such as example.com (not a public suffix such as co.uk).',
      field: 'domain',
    });
  const [{ count } = { count: 0 }] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(tenantDomains);
  if (count >= MAX_DOMAINS_PER_TENANT)
    throw new AuthError('invalid_input', {
      detail: `An organisation can have at most ${MAX_DOMAINS_PER_TENANT} domains.`,
      field: 'domain',
    });
  let row: TenantDomainRow | undefined;
  try {
    [row] = await tx
      .insert(tenantDomains)
      .values({
        tenantId: tx.tenantId,
        domain,
        verificationToken: randomBytes(24).toString('base64url'),
        createdAt: now,
      })
      .returning();
  } catch (error) {
    // The transaction is aborted now; the caller's withTenant rolls it back.
    if (isUniqueViolation(error))
      throw new AuthError('conflict', {
        detail: 'This domain is already on the list.',
        field: 'domain',
      });
    throw error;
  }
  if (!row) throw new Error('domain insert returned nothing');
  await recordAuditEvent(tx, {
    ...auditBase(actor, request, now),
    action: 'domain.added',
    target: { type: 'domain', id: row.id },
    after: auditDomain(row),
  });
  return toDomainView(row, await tenantSsoEnabled(tx));
}

export interface DomainDeps {
  lookup: TxtLookup;
  keyring: Keyring;
}

/** A domain's TXT record as looked up outside any transaction; only `lookUpDomainRecord` makes one. */
export interface DomainRecordCheck {
  readonly id: string;
  readonly check: RecordCheck;
  readonly [looked]: true;
}
declare const looked: unique symbol;

/**
 * First step of "verify": the domain and the token its TXT record must carry, read in the
 * caller's (read-only) tenant transaction. The lookup itself (`lookUpDomainRecord`) runs after
 * that transaction, so no pooled connection waits on DNS.
 */
export async function domainToVerify(
  tx: TenantTx,
  uc: Pick<TenantUseCase, 'actor'>,
  id: string,
): Promise<Pick<TenantDomainRow, 'id' | 'domain' | 'verificationToken'>> {
  assertManager(uc.actor);
  const [row] = await tx
    .select({
      id: tenantDomains.id,
      domain: tenantDomains.domain,
      verificationToken: tenantDomains.verificationToken,
    })
    .from(tenantDomains)
    .where(eq(tenantDomains.id, id));
  if (!row) throw new AuthError('not_found');
  return row;
}

/** Second step, outside any transaction: the TXT record looked up now. */
export async function lookUpDomainRecord(
  deps: Pick<DomainDeps, 'lookup'>,
  found: Pick<TenantDomainRow, 'id' | 'domain' | 'verificationToken'>,
): Promise<DomainRecordCheck> {
  const check = await checkVerificationRecord(deps.lookup, found.domain, found.verificationToken);
  return { id: found.id, check } as DomainRecordCheck;
}

/**
 * Last step, in the caller's tenant transaction: the answer applied to the locked row as the
 * daily re-check would (apply-check.ts), and audited.
 */
export async function verifyDomain(
  tx: TenantTx,
  uc: TenantUseCase & { deps: Pick<DomainDeps, 'keyring'> },
  looked: DomainRecordCheck,
): Promise<{ outcome: CheckOutcome; domain: DomainView }> {
  const { actor, deps, request, now } = uc;
  assertManager(actor);
  const [row] = await tx
    .select()
    .from(tenantDomains)
    .where(eq(tenantDomains.id, looked.id))
    .for('update');
  if (!row) throw new AuthError('not_found');
  const context = { ...auditBase(actor, request, now), keyring: deps.keyring, now };
  const result = await applyRecordCheck(tx, row, looked.check, context);
  return {
    outcome: result.outcome,
    domain: toDomainView(result.row, await tenantSsoEnabled(tx)),
  };
}

export async function updateDomainSettings(
  tx: TenantTx,
  uc: TenantUseCase,
  id: string,
  patch: DomainSettingsPatch,
): Promise<DomainView> {
  const { actor, request, now } = uc;
  assertManager(actor);
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
}

export async function removeDomain(tx: TenantTx, uc: TenantUseCase, id: string): Promise<void> {
  const { actor, request, now } = uc;
  assertManager(actor);
  const [removed] = await tx.delete(tenantDomains).where(eq(tenantDomains.id, id)).returning();
  if (!removed) throw new AuthError('not_found');
  await recordAuditEvent(tx, {
    ...auditBase(actor, request, now),
    action: 'domain.removed',
    target: { type: 'domain', id },
    before: auditDomain(removed),
  });
}
