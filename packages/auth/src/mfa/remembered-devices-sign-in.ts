/**
 * Password sign-in on a remembered device: the password step has produced an MFA challenge; when
 * the browser also holds a live device token of that same user in that same tenant, the challenge
 * is spent here instead of by a code. Any other token (another user's, another tenant's, revoked,
 * expired, or the tenant set `rememberDeviceDays` to 0) leaves the challenge untouched and the
 * caller answers `mfa_required` as usual. The session opened is AAL1 without MFA time
 * (docs/mfa-factors.md): step-up still needs a fresh code.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import { lookupMfaChallenge, mfaChallenges, tenants, users, withTenant } from '@tessera/db';
import { completeSignIn, type SignedIn } from '../shared/complete-sign-in.js';
import { isWellFormedToken, sha256 } from '../crypto/tokens.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { trustRememberedDevice } from './remembered-devices.js';
import type { UseCase } from '../context/use-case.js';

export async function signInWithRememberedDevice(
  uc: UseCase,
  challengeToken: string,
  deviceToken: string | undefined,
): Promise<SignedIn | null> {
  const { db, deps, request, now } = uc;
  if (!deviceToken || !isWellFormedToken(deviceToken) || !isWellFormedToken(challengeToken))
    return null;
  const located = await lookupMfaChallenge(db.pool, sha256(challengeToken));
  if (!located) return null;
  const trusted = await withTenant(db, located.tenantId, async (tx) => {
    const [challenge] = await tx
      .select()
      .from(mfaChallenges)
      .where(
        and(
          eq(mfaChallenges.id, located.challengeId),
          isNull(mfaChallenges.usedAt),
          gt(mfaChallenges.expiresAt, now),
        ),
      )
      .for('update');
    // Only a real MFA challenge may be spent by a device token, never an e-mail verification step.
    if (!challenge || challenge.purpose !== 'mfa') return null;
    const [tenant] = await tx.select().from(tenants);
    const [user] = await tx.select().from(users).where(eq(users.id, challenge.userId));
    if (!tenant || !user || user.disabledAt) return null;
    const policy = parseSecurityPolicy(tenant.securityPolicy);
    const uc = { actor: { userId: user.id }, request, now };
    if (!(await trustRememberedDevice(tx, uc, policy, deviceToken))) return null;
    await tx.update(mfaChallenges).set({ usedAt: now }).where(eq(mfaChallenges.id, challenge.id));
    return { tenant, user, policy };
  });
  if (!trusted) return null;
  const { tenant, user, policy } = trusted;
  return completeSignIn(
    db,
    deps,
    {
      tenantId: located.tenantId,
      tenantName: tenant.name,
      policy,
      user,
      newHash: null,
      email: user.email,
      via: 'remembered_device',
      aal: 1,
    },
    request,
    now,
  );
}
