/**
 * Step-up (DESIGN "MFA"): for users who have MFA, sensitive procedures need a second factor
 * verified within the last 10 minutes on this session (mfa.stepUp renews it). Users without MFA
 * pass; tenant policy decides whether they must enroll (enrollment-only sessions).
 */
import { AuthError } from '@tessera/auth';
import type { Principal } from '../context.js';

export const STEP_UP_WINDOW_MS = 10 * 60_000;

export function assertRecentMfa(principal: Principal, now: Date): void {
  if (principal.kind !== 'session' || !principal.mfaEnabled) return;
  const verifiedAt = principal.mfaVerifiedAt?.getTime() ?? 0;
  if (now.getTime() - verifiedAt > STEP_UP_WINDOW_MS) throw new AuthError('step_up_required');
}
