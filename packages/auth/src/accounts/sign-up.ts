import { randomUUID } from 'node:crypto';
import { tenants, users, withTenant, type Database } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { NO_TENANT_QUEUE_KEY } from '../passwords/password-service.js';
import { createSession, type CreatedSession } from '../sessions/create-session.js';
import { DEFAULT_SECURITY_POLICY, parseSecurityPolicy } from '../tenants/security-policy.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { normalizeEmail } from './normalize-email.js';
import { toTenantView, toUserView, type TenantView, type UserView } from '../shared/user-view.js';

export interface SignUpInput {
  tenantName: string;
  tenantSlug: string;
  email: string;
  password: string;
  displayName?: string | undefined;
}

export interface SignUpResult {
  user: UserView;
  tenant: TenantView;
  session: CreatedSession;
}

/** A Postgres unique violation (23505), also when wrapped by drizzle as the cause. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** Creates the tenant and its owner in one transaction, then signs the owner in. */
export async function signUp(
  db: Database,
  deps: AccountDeps,
  input: SignUpInput,
  request: RequestContext,
  now: Date,
): Promise<SignUpResult> {
  const email = normalizeEmail(input.email);
  const policy = parseSecurityPolicy(DEFAULT_SECURITY_POLICY);
  await deps.passwords.assertAcceptable(input.password, {
    minLength: policy.passwordMinLength,
    email,
    tenantName: input.tenantName,
    tenantSlug: input.tenantSlug,
  });
  const passwordHash = await deps.passwords.hash(input.password, NO_TENANT_QUEUE_KEY); // the tenant does not exist yet
  const tenantId = randomUUID();
  try {
    return await withTenant(db, tenantId, async (tx) => {
      const [tenant] = await tx
        .insert(tenants)
        .values({
          id: tenantId,
          slug: input.tenantSlug,
          name: input.tenantName,
          securityPolicy: { ...DEFAULT_SECURITY_POLICY },
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      const [user] = await tx
        .insert(users)
        .values({
          tenantId,
          email,
          displayName: input.displayName ?? null,
          passwordHash,
          passwordAlgorithm: 'argon2id',
          role: 'owner',
          lastLoginAt: now,
          lastLoginIp: request.ip,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      if (!tenant || !user) throw new Error('sign-up insert returned nothing');
      const session = await createSession(
        tx,
        policy,
        { userId: user.id, aal: 1, ip: request.ip, userAgent: request.userAgent },
        now,
      );
      const actor = { type: 'user' as const, id: user.id };
      await recordAuditEvent(tx, {
        actor,
        action: 'tenant.created',
        target: { type: 'tenant', id: tenantId },
        ip: request.ip,
        userAgent: request.userAgent,
        after: { slug: tenant.slug, name: tenant.name },
        occurredAt: now,
      });
      await recordAuditEvent(tx, {
        actor,
        action: 'user.created',
        target: { type: 'user', id: user.id },
        ip: request.ip,
        userAgent: request.userAgent,
        after: { email, role: 'owner' },
        occurredAt: now,
      });
      await recordAuditEvent(tx, {
        actor,
        action: 'session.created',
        target: { type: 'session', id: session.sessionId },
        ip: request.ip,
        userAgent: request.userAgent,
        metadata: { via: 'sign_up' },
        occurredAt: now,
      });
      return { user: toUserView(user), tenant: toTenantView(tenant), session };
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AuthError('conflict', {
        detail: 'This tenant slug is taken.',
        field: 'tenantSlug',
      });
    throw error;
  }
}
