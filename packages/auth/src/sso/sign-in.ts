/**
 * The end of an SSO sign-in, after @auth/core has validated the provider's answer (state, PKCE,
 * nonce, ID token issuer/audience/expiry, userinfo subject).
 *
 * Guarantees (docs/design.md "Identity", docs/sso.md): a user is found by the identity (provider,
 * subject, same issuer) linked to them; failing that, an existing user is linked by e-mail only
 * when the provider asserts `email_verified` AND the Tessera address is verified
 * (`email_verified_at`); failing that, a `member` is created when the tenant's own connection
 * allows just-in-time provisioning; anything else is refused, and the refusal is audited and
 * committed before the caller redirects. A user with an enrolled factor gets an MFA challenge,
 * not a session, unless the tenant opted in to trusting the provider's `amr`. Sessions come from
 * completeSignIn, exactly as for a password sign-in (tenant MFA enrollment policy, audit).
 *
 * Pinned by sign-in.db.test.ts and packages/api/src/plugins/sso*.security.test.ts.
 */
import { and, eq } from 'drizzle-orm';
import {
  tenants,
  userIdentities,
  users,
  withTenant,
  type Database,
  type TenantTx,
  type UserRow,
} from '@tessera/db';
import { completeSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import type { AccountDeps, RequestContext } from '../context/deps.js';
import { isPlausibleEmail, normalizeEmail } from '../accounts/normalize-email.js';
import { recordAuditEvent } from '../audit/index.js';
import { domainAutoJoins } from '../shared/domain-rules.js';
import { createMfaChallenge } from '../mfa/challenge-token.js';
import { hasSecondFactor } from '../shared/factors.js';
import { parseSecurityPolicy, type SecurityPolicy } from '../tenants/security-policy.js';
import type { SsoConnection } from './settings.js';

/** What the provider asserted, already validated by @auth/core. */
export interface SsoAssertion {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** RFC 8176 authentication method references from the ID token. */
  amr: readonly string[];
}

/** Refusal codes; the console shows one message per code and nothing more. */
export type SsoRefusal = 'no_account' | 'identity_conflict';

export type SsoSignInResult =
  | SignedIn
  | { status: 'mfa_required'; challengeToken: string }
  | { status: 'refused'; reason: SsoRefusal };

/** RFC 8176 values that mean a second factor was used at the provider. */
export const TRUSTED_AMR = ['mfa', 'otp', 'hwk'] as const;

export function providerMfaSatisfied(
  connection: Pick<SsoConnection, 'trustProviderMfa'>,
  amr: readonly string[],
): boolean {
  return (
    connection.trustProviderMfa &&
    amr.some((value) => (TRUSTED_AMR as readonly string[]).includes(value))
  );
}

type Step =
  | { kind: 'refused'; reason: SsoRefusal }
  | { kind: 'challenge'; token: string }
  | {
      kind: 'continue';
      user: UserRow;
      tenantName: string;
      policy: SecurityPolicy;
      providerMfa: boolean;
    };

type Found = { user: UserRow } | { refused: SsoRefusal; detail: string; userId: string | null };

interface Input {
  tenantId: string;
  connection: Pick<SsoConnection, 'provider' | 'issuer' | 'jitProvisioning' | 'trustProviderMfa'>;
  assertion: SsoAssertion;
  /** The role of a just-in-time user (a SAML group-to-role rule); `member` when absent. */
  jitRole?: 'admin' | 'compliance' | 'member';
}

async function findOrLink(
  tx: TenantTx,
  input: Input,
  request: RequestContext,
  now: Date,
): Promise<Found> {
  const { connection, assertion } = input;
  const [identity] = await tx
    .select()
    .from(userIdentities)
    .where(
      and(
        eq(userIdentities.provider, connection.provider),
        eq(userIdentities.subject, assertion.subject),
      ),
    );
  if (identity) {
    if (identity.issuer !== connection.issuer)
      return { refused: 'identity_conflict', detail: 'issuer_changed', userId: identity.userId };
    const [user] = await tx.select().from(users).where(eq(users.id, identity.userId));
    if (!user) return { refused: 'no_account', detail: 'user_missing', userId: null };
    await tx
      .update(userIdentities)
      .set({ lastUsedAt: now })
      .where(eq(userIdentities.id, identity.id));
    return { user };
  }
  const email = assertion.email ? normalizeEmail(assertion.email) : null;
  if (!email || !isPlausibleEmail(email))
    return { refused: 'no_account', detail: 'email_missing', userId: null };
  const [existing] = await tx.select().from(users).where(eq(users.email, email));
  const base = {
    actor: { type: 'user' as const, id: existing?.id ?? null },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  };
  const link = async (userId: string) =>
    tx.insert(userIdentities).values({
      tenantId: tx.tenantId,
      userId,
      provider: connection.provider,
      issuer: connection.issuer,
      subject: assertion.subject,
      createdAt: now,
      lastUsedAt: now,
    });
  if (existing) {
    // docs/design.md "Identity": both sides must hold the address verified, or anyone who can make an IdP
    // claim an address could take the account that owns it.
    if (!assertion.emailVerified || !existing.emailVerifiedAt)
      return { refused: 'no_account', detail: 'email_unverified', userId: existing.id };
    if (existing.disabledAt)
      return { refused: 'no_account', detail: 'disabled', userId: existing.id };
    await link(existing.id);
    await recordAuditEvent(tx, {
      ...base,
      action: 'auth.sso.identity_linked',
      target: { type: 'user', id: existing.id },
      metadata: { provider: connection.provider, via: 'verified_email' },
    });
    return { user: existing };
  }
  // A verified address at a domain the tenant holds with auto-join on joins as a member, from
  // any provider the tenant accepts (docs/domains.md); otherwise only the tenant's JIT setting.
  const autoJoin =
    !connection.jitProvisioning && assertion.emailVerified && (await domainAutoJoins(tx, email));
  if (!connection.jitProvisioning && !autoJoin)
    return { refused: 'no_account', detail: 'not_provisioned', userId: null };
  const [created] = await tx
    .insert(users)
    .values({
      tenantId: tx.tenantId,
      email,
      role: input.jitRole ?? 'member',
      displayName: assertion.name?.trim().slice(0, 100) || null,
      emailVerifiedAt: assertion.emailVerified ? now : null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!created) throw new Error('user insert returned nothing');
  await link(created.id);
  await recordAuditEvent(tx, {
    ...base,
    actor: { type: 'user', id: created.id },
    action: 'auth.sso.user_provisioned',
    target: { type: 'user', id: created.id },
    metadata: {
      provider: connection.provider,
      role: input.jitRole ?? 'member',
      emailVerified: assertion.emailVerified,
      via: autoJoin ? 'domain_auto_join' : 'jit',
    },
  });
  return { user: created };
}

/** One committed transaction: find/link/provision, refusal audit, or MFA challenge. */
async function resolveUser(
  db: Database,
  input: Input,
  request: RequestContext,
  now: Date,
): Promise<Step> {
  return withTenant(db, input.tenantId, async (tx) => {
    const found = await findOrLink(tx, input, request, now);
    const user = 'user' in found ? found.user : null;
    if (!user || user.disabledAt) {
      const refused =
        'refused' in found
          ? found
          : { refused: 'no_account' as const, detail: 'disabled', userId: user?.id ?? null };
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: refused.userId },
        action: 'auth.sso.refused',
        target: { type: 'user', id: refused.userId },
        ip: request.ip,
        userAgent: request.userAgent,
        occurredAt: now,
        metadata: { provider: input.connection.provider, reason: refused.detail },
      });
      return { kind: 'refused' as const, reason: refused.refused };
    }
    const [tenant] = await tx.select().from(tenants);
    const hasFactor = await hasSecondFactor(tx, user.id); // TOTP or a passkey
    const providerMfa = providerMfaSatisfied(input.connection, input.assertion.amr);
    if (hasFactor && !providerMfa) {
      const { token } = await createMfaChallenge(tx, user.id, now);
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: user.id },
        action: 'auth.sign_in.mfa_required',
        target: { type: 'user', id: user.id },
        ip: request.ip,
        userAgent: request.userAgent,
        occurredAt: now,
        metadata: { via: 'sso', provider: input.connection.provider },
      });
      return { kind: 'challenge' as const, token };
    }
    return {
      kind: 'continue' as const,
      user,
      tenantName: tenant?.name ?? '',
      policy: parseSecurityPolicy(tenant?.securityPolicy),
      providerMfa,
    };
  });
}

export async function completeSsoSignIn(
  db: Database,
  deps: AccountDeps,
  input: Input,
  request: RequestContext,
  now: Date,
): Promise<SsoSignInResult> {
  const step = await resolveUser(db, input, request, now);
  if (step.kind === 'refused') return { status: 'refused', reason: step.reason };
  if (step.kind === 'challenge') return { status: 'mfa_required', challengeToken: step.token };
  // A trusted provider MFA counts as the second factor: AAL2, and the tenant's MFA requirement
  // is met for this session (no enrollment-only session). Opt-in per tenant; docs/sso.md.
  const policy = step.providerMfa ? { ...step.policy, mfaRequired: 'off' as const } : step.policy;
  return completeSignIn(
    db,
    deps,
    {
      tenantId: input.tenantId,
      tenantName: step.tenantName,
      policy,
      user: step.user,
      newHash: null,
      email: step.user.email,
      via: 'sso',
      aal: step.providerMfa ? 2 : 1,
      passwordFailures: 'keep', // SSO proves nothing about password guesses
    },
    request,
    now,
  );
}
