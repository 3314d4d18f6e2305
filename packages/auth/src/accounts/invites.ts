import { eq } from 'drizzle-orm';
import { tenants, userTokens, users, withTenant, type Database, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { completeSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { normalizeEmail } from './normalize-email.js';
import { consumeUserToken, issueUserToken, locateUserToken } from './user-tokens.js';
import type { UserRole } from '@tessera/db';
import type { ActorUseCase, TenantUseCase } from '../context/use-case.js';
import { assertMayAssign } from '../roles/grant-rule.js';
import { customRolePermissions } from '../roles/manage-roles.js';
import { BUILT_IN_ROLE_PERMISSIONS } from '../roles/permissions.js';
import { assertCustomOnMember } from './manage-users.js';

/** Creates a pending user (no password) and mails a 7-day single-use invite link. */
export async function inviteUser(
  tx: TenantTx,
  uc: TenantUseCase & Pick<ActorUseCase, 'deps'>,
  input: { email: string; role: UserRole; customRoleId?: string | null | undefined },
): Promise<{ userId: string }> {
  const { deps, actor, request, now } = uc;
  const customRoleId = input.customRoleId ?? null;
  if (input.role === 'owner' && actor.role !== 'owner')
    throw new AuthError('forbidden', { detail: 'Only owners can invite owners.' });
  const granted = customRoleId
    ? await customRolePermissions(tx, customRoleId)
    : BUILT_IN_ROLE_PERMISSIONS[input.role];
  assertCustomOnMember(input.role, customRoleId);
  assertMayAssign(actor, { role: input.role, custom: customRoleId !== null }, granted);
  const email = normalizeEmail(input.email);
  const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (existing)
    throw new AuthError('conflict', {
      detail: 'A user with this e-mail already exists.',
      field: 'email',
    });
  const [user] = await tx
    .insert(users)
    .values({
      tenantId: actor.tenantId,
      email,
      role: input.role,
      customRoleId,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: users.id });
  if (!user) throw new Error('invite insert returned nothing');
  const [tenant] = await tx.select().from(tenants);
  const token = await issueUserToken(tx, {
    kind: 'invite',
    userId: user.id,
    createdBy: actor.userId,
    now,
  });
  const link = `${deps.publicUrl}/accept-invite#token=${token}`;
  await enqueueEmail(
    tx,
    deps.keyring,
    { userId: user.id, address: email },
    { name: 'invite', tenantName: tenant?.name ?? '', link, role: input.role },
    now,
  );
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'user.invited',
    target: { type: 'user', id: user.id },
    ip: request.ip,
    userAgent: request.userAgent,
    after: customRoleId ? { email, role: input.role, customRoleId } : { email, role: input.role },
    occurredAt: now,
  });
  return { userId: user.id };
}

/** Sets the invited user's password, consumes the invite and signs them in. */
export async function acceptInvite(
  db: Database,
  deps: AccountDeps,
  input: { token: string; password: string; displayName?: string | undefined },
  request: RequestContext,
  now: Date,
): Promise<SignedIn> {
  const located = await locateUserToken(db, 'invite', input.token);
  if (!located) throw new AuthError('token_invalid');
  const context = await withTenant(
    db,
    located.tenantId,
    async (tx) => {
      const [tenant] = await tx.select().from(tenants);
      const [invited] = await tx
        .select({ email: users.email })
        .from(userTokens)
        .innerJoin(users, eq(users.id, userTokens.userId))
        .where(eq(userTokens.id, located.tokenId));
      return {
        tenantName: tenant?.name ?? '',
        tenantSlug: tenant?.slug ?? '',
        email: invited?.email,
        policy: parseSecurityPolicy(tenant?.securityPolicy),
      };
    },
    { readOnly: true },
  );
  const hash = await prepareHash(deps, input.password, context, located.tenantId);
  const user = await withTenant(db, located.tenantId, async (tx) => {
    const userId = await consumeUserToken(tx, located.tokenId, 'invite', now);
    if (!userId) throw new AuthError('token_invalid');
    const [row] = await tx
      .update(users)
      .set({
        passwordHash: hash,
        passwordAlgorithm: 'argon2id',
        displayName: input.displayName ?? null,
        emailVerifiedAt: now,
        updatedAt: now,
      })
      .where(eq(users.id, userId))
      .returning();
    if (!row || row.disabledAt) throw new AuthError('token_invalid');
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: row.id },
      action: 'user.invite_accepted',
      target: { type: 'user', id: row.id },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
    });
    return row;
  });
  return completeSignIn(
    db,
    deps,
    {
      tenantId: located.tenantId,
      tenantName: context.tenantName,
      policy: context.policy,
      user,
      newHash: null,
      email: user.email,
      via: 'invite',
    },
    request,
    now,
  );

  async function prepareHash(
    d: AccountDeps,
    password: string,
    ctx: typeof context,
    tenantId: string,
  ): Promise<string> {
    await d.passwords.assertAcceptable(password, {
      minLength: ctx.policy.passwordMinLength,
      tenantName: ctx.tenantName,
      tenantSlug: ctx.tenantSlug,
      ...(ctx.email ? { email: ctx.email } : {}),
    });
    return d.passwords.hash(password, tenantId);
  }
}
