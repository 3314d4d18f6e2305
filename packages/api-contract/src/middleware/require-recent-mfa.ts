/**
 * Step-up (docs/design.md "Identity" and "MFA"): for users who have a second factor, changes that raise
 * privilege or weaken protection need a factor verified within the last 10 minutes on this
 * session (`mfa.stepUp` or `passkeys.stepUp` renew it). Users without a factor pass: there is
 * nothing to step up with, and tenant policy decides whether they must enroll (enrollment-only
 * sessions).
 */
import { AuthError } from '@tessera/auth';
import type { Principal } from '../context.js';
import { middleware } from '../trpc.js';

export const STEP_UP_WINDOW_MS = 10 * 60_000;

export function assertRecentMfa(principal: Principal, now: Date): void {
  if (principal.kind !== 'session' || !principal.mfaEnabled) return;
  const verifiedAt = principal.mfaVerifiedAt?.getTime() ?? 0;
  if (now.getTime() - verifiedAt > STEP_UP_WINDOW_MS) throw new AuthError('step_up_required');
}

/**
 * Step-up for a whole procedure, before its input is read. Used for every step of adding or
 * removing a factor (authenticator app, passkey, phone number): a user who already has a factor
 * proves it first (NIST SP 800-63B §6.1.2.1), so a stolen session alone cannot bind the attacker's
 * authenticator; a user's first factor needs none (enrollment-only sessions use these procedures)
 * and binding it never renews the session's MFA time. Also for SSO settings and legacy imports,
 * which decide who can sign in as whom.
 */
export const requireRecentMfa = middleware(({ ctx, next }) => {
  if (ctx.principal) assertRecentMfa(ctx.principal, ctx.now());
  return next();
});
