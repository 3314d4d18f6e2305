/**
 * Failed sign-in bookkeeping per (tenant, normalised e-mail), whether or not the account exists,
 * so `account_locked` reveals nothing (docs/design.md "Identity"). Each call commits on its own
 * transaction before the caller throws (docs/design.md "Failure bookkeeping").
 */
import { eq, sql } from 'drizzle-orm';
import { loginThrottles, users, type TenantTx } from '@tessera/db';
import { lockSeconds, type SecurityPolicy } from '../tenants/security-policy.js';

export interface ThrottleState {
  lockedUntil: Date | null;
}

export async function readThrottle(tx: TenantTx, email: string): Promise<ThrottleState> {
  const [row] = await tx
    .select({ lockedUntil: loginThrottles.lockedUntil })
    .from(loginThrottles)
    .where(eq(loginThrottles.email, email));
  return { lockedUntil: row?.lockedUntil ?? null };
}

export interface FailureOutcome {
  failures: number;
  lockedUntil: Date | null;
  /** True when this failure started a new lock. */
  locked: boolean;
}

/** Counts one failure atomically; at the threshold, locks with exponential backoff and resets the count. */
export async function recordFailure(
  tx: TenantTx,
  policy: SecurityPolicy,
  email: string,
  now: Date,
): Promise<FailureOutcome> {
  const [row] = await tx
    .insert(loginThrottles)
    .values({ tenantId: tx.tenantId, email, failures: 1, lastFailureAt: now })
    .onConflictDoUpdate({
      target: [loginThrottles.tenantId, loginThrottles.email],
      set: { failures: sql`${loginThrottles.failures} + 1`, lastFailureAt: now },
    })
    .returning();
  if (!row) throw new Error('throttle upsert returned nothing');
  await tx.update(users).set({ failedLoginAttempts: row.failures }).where(eq(users.email, email));
  if (row.failures < policy.lockoutThreshold)
    return { failures: row.failures, lockedUntil: row.lockedUntil, locked: false };
  const lockouts = row.lockouts + 1;
  const lockedUntil = new Date(now.getTime() + lockSeconds(policy, lockouts) * 1000);
  await tx
    .update(loginThrottles)
    .set({ failures: 0, lockouts, lockedUntil })
    .where(eq(loginThrottles.email, email));
  await tx.update(users).set({ lockedUntil, failedLoginAttempts: 0 }).where(eq(users.email, email));
  return { failures: row.failures, lockedUntil, locked: true };
}

/**
 * After a success: failures forgotten; the lockout count decays only through successes. Both
 * statements are issued at once, in this order (the throttle row before the user row, as
 * `recordFailure` locks them), so they cost one round trip and can join the caller's next ones.
 */
export function clearFailures(tx: TenantTx, email: string): Promise<void> {
  const throttle = clearThrottle(tx, email);
  const user = tx
    .update(users)
    .set({ failedLoginAttempts: 0, lockedUntil: null })
    .where(eq(users.email, email))
    .execute();
  return Promise.all([throttle, user]).then(() => undefined);
}

/** The `login_throttles` half of `clearFailures`, issued at once, for callers that update the user row themselves. */
export function clearThrottle(tx: TenantTx, email: string): Promise<unknown> {
  return tx
    .update(loginThrottles)
    .set({ failures: 0, lockouts: 0, lockedUntil: null })
    .where(eq(loginThrottles.email, email))
    .execute();
}

/**
 * An address stops being the account's (e-mail change): its counters go with it, so no row keyed
 * by the former address outlives the link to the person (erasure only knows the current address).
 * The audit log keeps the evidence of the failures.
 */
export async function forgetThrottle(tx: TenantTx, email: string): Promise<void> {
  await tx.delete(loginThrottles).where(eq(loginThrottles.email, email));
}
