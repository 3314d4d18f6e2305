/**
 * Sign-in activity per UTC day over the last 30 days, counted from the audit log (the events are
 * written in the same transaction as the outcome, and refusals are committed before the error
 * leaves, docs/design.md "Failure bookkeeping", so the log is the complete record):
 * - succeeded: `auth.sign_in.succeeded` (password, passkey, SSO, e-mail code: every way in);
 * - failed: `auth.sign_in.failed` (wrong password or unknown account, counted per attempt);
 * - lockedOut: `auth.account.locked` (an account newly locked after repeated failures);
 * - refused: `auth.sign_in.refused` (turned away before the password was checked: the account
 *   was locked, or the tenant requires SSO);
 * - mfaFailed: `auth.mfa.failed` (wrong code at sign-in) + `mfa.verification.failed` (wrong code
 *   for step-up, enrollment or a factor change).
 * The counts come from the daily rollup audit_daily_counts, kept in the appending transaction
 * by a trigger (migration 0031); days without events are filled in by the same statement.
 */
import type { TenantTx } from '@tessera/db';

export const OVERVIEW_DAYS = 30;

export const SIGN_IN_ACTIONS = {
  succeeded: ['auth.sign_in.succeeded'],
  failed: ['auth.sign_in.failed'],
  lockedOut: ['auth.account.locked'],
  refused: ['auth.sign_in.refused'],
  mfaFailed: ['auth.mfa.failed', 'mfa.verification.failed'],
} as const;

export interface SignInDay {
  /** UTC calendar day, YYYY-MM-DD. */
  day: string;
  succeeded: number;
  failed: number;
  lockedOut: number;
  refused: number;
  mfaFailed: number;
}

export interface SignInActivity {
  from: string;
  through: string;
  days: SignInDay[];
  totals: Omit<SignInDay, 'day'>;
}

// Read from the daily rollup audit_daily_counts (migration 0031), kept by a trigger on
// audit_logs for exactly these actions: at most 30 rows per action, however busy the tenant.
const SQL = `
  WITH counts AS (
    SELECT c.day, c.action, c.events AS n
    FROM public.audit_daily_counts c
    WHERE c.action IN ('auth.sign_in.succeeded', 'auth.sign_in.failed', 'auth.account.locked',
                       'auth.sign_in.refused', 'auth.mfa.failed', 'mfa.verification.failed')
      AND c.day BETWEEN $1::date AND $2::date
  )
  SELECT pg_catalog.to_char(d.day, 'YYYY-MM-DD') AS day,
         coalesce(sum(c.n) FILTER (WHERE c.action = 'auth.sign_in.succeeded'), 0)::int AS succeeded,
         coalesce(sum(c.n) FILTER (WHERE c.action = 'auth.sign_in.failed'), 0)::int AS failed,
         coalesce(sum(c.n) FILTER (WHERE c.action = 'auth.account.locked'), 0)::int AS "lockedOut",
         coalesce(sum(c.n) FILTER (WHERE c.action = 'auth.sign_in.refused'), 0)::int AS refused,
         coalesce(sum(c.n) FILTER (WHERE c.action IN ('auth.mfa.failed', 'mfa.verification.failed')), 0)::int AS "mfaFailed"
  FROM pg_catalog.generate_series($1::date, $2::date, interval '1 day') AS d(day)
  LEFT JOIN counts c ON c.day = d.day::date
  GROUP BY d.day ORDER BY d.day`;

const isoDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The 30 UTC days ending with `now`'s day, oldest first. */
export async function signInActivity(tx: TenantTx, now: Date): Promise<SignInActivity> {
  const through = isoDay(now);
  const from = isoDay(new Date(now.getTime() - (OVERVIEW_DAYS - 1) * 86_400_000));
  const { rows } = await tx.client.query<SignInDay>({
    name: 'tessera_overview_sign_ins',
    text: SQL,
    values: [from, through],
  });
  const totals = { succeeded: 0, failed: 0, lockedOut: 0, refused: 0, mfaFailed: 0 };
  for (const row of rows)
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += row[key];
  return { from, through, days: rows, totals };
}
