/**
 * What follows a failure that locked an account, the same for a sign-in and for a password
 * re-entered in a session: the lock's own audit event and the notice to the account's owner. Runs
 * in the transaction that recorded the failure (throttle.ts), which commits before the caller throws.
 */
import type { TenantTx } from '@tessera/db';
import { recordAuditEvent, type AuditEventInput } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { publishOutcome } from '../outcomes.js';

/** Seconds until a lock ends, at least 1: the Retry-After of `account_locked`. */
export function lockRetryAfterSeconds(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/** What a lock records: `base` is the failure's own audit event (actor, target, request); `notify` null mails nobody (unknown or disabled user). */
export interface Lockout {
  base: Omit<AuditEventInput, 'action' | 'metadata'>;
  lockedUntil: Date | null;
  notify: { userId: string; address: string; tenantName: string } | null;
}

export async function recordLockout(
  tx: TenantTx,
  { keyring, now }: { keyring: Keyring; now: Date },
  { base, lockedUntil, notify }: Lockout,
): Promise<void> {
  await recordAuditEvent(tx, {
    ...base,
    action: 'auth.account.locked',
    metadata: { lockedUntil: lockedUntil?.toISOString() ?? null },
  });
  publishOutcome({ kind: 'account_locked' });
  if (notify === null) return;
  const minutes = Math.ceil(((lockedUntil?.getTime() ?? now.getTime()) - now.getTime()) / 60_000);
  await enqueueEmail(
    tx,
    keyring,
    { userId: notify.userId, address: notify.address },
    { name: 'account_locked', tenantName: notify.tenantName, minutes },
    now,
  );
}
