/**
 * Deterministic risk scores, 0..100 (docs/audit-log.md, "Risk score"). Sign-in events are scored
 * from signals; every other action carries a fixed score from the table, so the same event always
 * gets the same number and a reviewer can recompute it by hand.
 */
import type { TenantTx } from '@tessera/db';
import { sql, type SQL } from 'drizzle-orm';

export interface SignInRiskInput {
  /** No earlier successful sign-in of this user from this IP address. */
  newIp: boolean;
  /** No earlier successful sign-in of this user with this user agent. */
  newUserAgent: boolean;
  /** Failed attempts for this account in the current lockout window. */
  recentFailures: number;
  /** The account is (or just became) locked. */
  locked: boolean;
  /** The hour is unusual for the tenant (see isUnusualSignInHour). */
  unusualHour: boolean;
}

export const SIGN_IN_RISK_WEIGHTS = {
  newIp: 25,
  newUserAgent: 15,
  perRecentFailure: 10,
  maxRecentFailures: 3,
  locked: 40,
  unusualHour: 15,
} as const;

/** Sum of the weights of the signals present, failures capped at 3, the total capped at 100. */
export function signInRiskScore(input: SignInRiskInput): number {
  const w = SIGN_IN_RISK_WEIGHTS;
  const failures = Math.min(
    Math.max(0, Math.trunc(input.recentFailures) || 0),
    w.maxRecentFailures,
  );
  const score =
    (input.newIp ? w.newIp : 0) +
    (input.newUserAgent ? w.newUserAgent : 0) +
    failures * w.perRecentFailure +
    (input.locked ? w.locked : 0) +
    (input.unusualHour ? w.unusualHour : 0);
  return Math.min(100, score);
}

/** Fixed scores per action. Sign-in events default here only when the caller gives no score. */
export const AUDIT_ACTION_RISK: Readonly<Record<string, number>> = {
  'auth.sign_in.succeeded': 0,
  'auth.sign_in.failed': 30,
  'auth.sign_in.refused': 60,
  'auth.sign_in.mfa_required': 10,
  'auth.account.locked': 70,
  'auth.signed_out': 0,
  'auth.mfa.verified': 0,
  'auth.mfa.failed': 40,
  'auth.password.changed': 30,
  'auth.password_confirmation.failed': 40,
  'auth.password_confirmation.refused': 60,
  'auth.password.rehashed': 0,
  'auth.password_reset.requested': 20,
  'auth.password.reset': 40,
  'auth.email.verified': 10,
  'auth.email_change.requested': 30,
  'tenant.created': 10,
  'user.created': 10,
  'user.imported': 40,
  'user.invite_accepted': 10,
  'session.created': 0,
  'session.revoked_others': 10,
  'mfa.enabled': 10,
  'mfa.disabled': 60,
  'mfa.reset': 70,
  'mfa.backup_codes.regenerated': 40,
  'mfa.verification.failed': 40,
  'session.revoked': 10,
  'api_key.created': 40,
  'api_key.rotated': 30,
  'api_key.revoked': 20,
  'api_key.refused': 50,
  'user.invited': 20,
  'user.role.changed': 60,
  'role.created': 40,
  'role.updated': 60,
  'role.deleted': 40,
  'user.disabled': 40,
  'user.unlocked': 30,
  'tenant.security_policy.updated': 60,
  'privacy.export.requested': 20,
  'privacy.export.downloaded': 30,
  'privacy.deletion.requested': 40,
  'privacy.erasure.completed': 40,
  'audit.log.exported': 40,
  'audit.checkpoint.signed': 0,
  'audit.retention.updated': 50,
  'audit.retention.pruned': 50,
  'audit.personal_data.redacted': 30,
};

/** Actions missing from the table: refusals and failures 40, anything else 10. */
export function defaultRiskScore(action: string): number {
  const fixed = AUDIT_ACTION_RISK[action];
  if (fixed !== undefined) return fixed;
  return /\.(?:failed|refused|denied|rejected)$/.test(action) ? 40 : 10;
}

const HOUR_SAMPLE = 500;
const HOUR_MIN_SAMPLE = 50;
const HOUR_RARE_SHARE = 0.02;

/**
 * The sample `isUnusualSignInHour` judges, as a sub-query returning `at_hour` and `total`: of the
 * tenant's last 500 successful sign-ins, how many fell in the UTC hour of `at`. For callers that
 * read it together with other facts in one statement (shared/sign-in-risk.ts).
 */
export function signInHourSample(at: Date): SQL {
  return sql`SELECT count(*) FILTER (WHERE extract(hour FROM s.occurred_at AT TIME ZONE 'UTC') = ${at.getUTCHours()})::int AS at_hour,
                    count(*)::int AS total
             FROM (SELECT occurred_at FROM public.audit_logs WHERE action = 'auth.sign_in.succeeded'
                   ORDER BY seq DESC LIMIT ${HOUR_SAMPLE}) s`;
}

/** The verdict on a `signInHourSample`: fewer than 2% in that hour, once there are 50 sign-ins on record. */
export function isUnusualHourShare(sample: { atHour: number; total: number }): boolean {
  if (sample.total < HOUR_MIN_SAMPLE) return false;
  return sample.atHour / sample.total < HOUR_RARE_SHARE;
}

/**
 * True when fewer than 2% of the tenant's last 500 successful sign-ins (UTC hour of day) fell in
 * the hour of `at`. With fewer than 50 sign-ins on record nothing is unusual yet.
 */
export async function isUnusualSignInHour(tx: TenantTx, at: Date): Promise<boolean> {
  const { rows } = await tx.client.query<{ at_hour: number; total: number }>({
    name: 'tessera_audit_sign_in_hours',
    text: `SELECT count(*) FILTER (WHERE extract(hour FROM s.occurred_at AT TIME ZONE 'UTC') = $1)::int AS at_hour,
                  count(*)::int AS total
           FROM (SELECT occurred_at FROM public.audit_logs WHERE action = 'auth.sign_in.succeeded'
                 ORDER BY seq DESC LIMIT $2) s`,
    values: [at.getUTCHours(), HOUR_SAMPLE],
  });
  const row = rows[0];
  return row !== undefined && isUnusualHourShare({ atHour: row.at_hour, total: row.total });
}
