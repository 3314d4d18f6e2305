import { eq } from 'drizzle-orm';
import { tenants, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import {
  parseSecurityPolicy,
  POLICY_BOUNDS,
  weakenedSettings,
  type SecurityPolicy,
} from './security-policy.js';
import type { TenantUseCase } from '../context/use-case.js';

export type SecurityPolicyPatch = Partial<Omit<SecurityPolicy, 'lockoutBaseSeconds'>> & {
  lockoutBaseSeconds?: number;
};

function validate(next: SecurityPolicy): void {
  for (const [key, [min, max]] of Object.entries(POLICY_BOUNDS) as [
    keyof typeof POLICY_BOUNDS,
    readonly [number, number],
  ][]) {
    const value = next[key];
    if (!Number.isInteger(value) || value < min || value > max)
      throw new AuthError('invalid_input', {
        detail: `${key} must be between ${min} and ${max}.`,
        field: key,
      });
  }
  if (next.passwordMinLength < 15 && next.mfaRequired !== 'all') {
    throw new AuthError('invalid_input', {
      detail:
        'Passwords shorter than 15 characters are allowed only when MFA is required for everyone.',
      field: 'passwordMinLength',
    });
  }
}

/** The current tenant's name and parsed security policy, inside its own transaction. */
export async function tenantPolicyOf(
  tx: TenantTx,
): Promise<{ tenantName: string; policy: SecurityPolicy }> {
  const [tenant] = await tx
    .select({ name: tenants.name, policy: tenants.securityPolicy })
    .from(tenants);
  return { tenantName: tenant?.name ?? 'Tessera', policy: parseSecurityPolicy(tenant?.policy) };
}

export async function getTenant(
  tx: TenantTx,
): Promise<{ id: string; slug: string; name: string; securityPolicy: SecurityPolicy }> {
  const [tenant] = await tx.select().from(tenants);
  if (!tenant) throw new AuthError('not_found');
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    securityPolicy: parseSecurityPolicy(tenant.securityPolicy),
  };
}

export interface UpdatePolicyOptions {
  /** Called, inside the transaction and before any write, when the change lowers protection; throws to refuse (step-up). */
  assertMayWeaken: () => void;
}

export async function updateSecurityPolicy(
  tx: TenantTx,
  uc: TenantUseCase,
  patch: SecurityPolicyPatch,
  options: UpdatePolicyOptions,
): Promise<SecurityPolicy> {
  const { actor, request, now } = uc;
  const [tenant] = await tx.select().from(tenants).for('update');
  if (!tenant) throw new AuthError('not_found');
  const before = parseSecurityPolicy(tenant.securityPolicy);
  const next: SecurityPolicy = {
    ...before,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  };
  validate(next);
  if (weakenedSettings(before, next).length > 0) options.assertMayWeaken();
  await tx
    .update(tenants)
    .set({ securityPolicy: { ...next }, updatedAt: now })
    .where(eq(tenants.id, tenant.id));
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'tenant.security_policy.updated',
    target: { type: 'tenant', id: tenant.id },
    ip: request.ip,
    userAgent: request.userAgent,
    before: { ...before },
    after: { ...next },
    occurredAt: now,
  });
  return next;
}
