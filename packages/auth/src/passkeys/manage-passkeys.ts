/** List, rename and remove a user's own passkeys; removal keeps a way in when MFA is required. */
import type { AccountDeps } from '../context/deps.js';
import type { TenantUseCase } from '../context/use-case.js';
import { and, asc, eq } from 'drizzle-orm';
import { tenants, webauthnCredentials, type TenantTx } from '@tessera/db';
import { mfaRequiredFor } from '../shared/complete-sign-in.js';
import type { RequestContext } from '../context/deps.js';
import { recordAuditEvent } from '../audit/index.js';
import { notifyUser } from '../outbox/notify-api-key-created.js';
import { AuthError } from '../errors.js';
import { parseSecurityPolicy } from '../tenants/security-policy.js';
import { hasTotp } from '../shared/factors.js';
import { toPasskeyView, type PasskeyView } from './passkey-view.js';

export interface PasskeyOwner {
  userId: string;
  role: 'owner' | 'admin' | 'compliance' | 'member';
}

export async function listPasskeys(tx: TenantTx, userId: string): Promise<PasskeyView[]> {
  const rows = await tx
    .select()
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, userId))
    .orderBy(asc(webauthnCredentials.createdAt), asc(webauthnCredentials.id));
  return rows.map(toPasskeyView);
}

export async function renamePasskey(
  tx: TenantTx,
  owner: PasskeyOwner,
  input: { id: string; name: string },
  request: RequestContext,
  now: Date,
): Promise<PasskeyView> {
  const [before] = await tx
    .select()
    .from(webauthnCredentials)
    .where(and(eq(webauthnCredentials.id, input.id), eq(webauthnCredentials.userId, owner.userId)))
    .for('update');
  if (!before) throw new AuthError('not_found', { detail: 'Passkey not found.' });
  const [row] = await tx
    .update(webauthnCredentials)
    .set({ name: input.name })
    .where(eq(webauthnCredentials.id, before.id))
    .returning();
  if (!row) throw new AuthError('not_found', { detail: 'Passkey not found.' });
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: owner.userId },
    action: 'passkey.renamed',
    target: { type: 'passkey', id: row.id },
    before: { name: before.name },
    after: { name: row.name },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
  return toPasskeyView(row);
}

/** The caller enforces step-up first. The last factor stays while the tenant requires MFA. */
export async function removePasskey(
  tx: TenantTx,
  uc: TenantUseCase<PasskeyOwner> & { deps: Pick<AccountDeps, 'keyring'> },
  id: string,
): Promise<void> {
  const { deps, actor: owner, request, now } = uc;
  const { keyring } = deps;
  const mine = await tx
    .select()
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, owner.userId))
    .for('update');
  const target = mine.find((row) => row.id === id);
  if (!target) throw new AuthError('not_found', { detail: 'Passkey not found.' });
  const [tenant] = await tx.select({ securityPolicy: tenants.securityPolicy }).from(tenants);
  const lastFactor = mine.length === 1 && !(await hasTotp(tx, owner.userId));
  if (lastFactor && mfaRequiredFor(parseSecurityPolicy(tenant?.securityPolicy), owner.role)) {
    throw new AuthError('conflict', {
      detail:
        'Your organisation requires two-factor authentication: add another passkey or an authenticator app before removing your last one.',
    });
  }
  await tx.delete(webauthnCredentials).where(eq(webauthnCredentials.id, target.id));
  await notifyUser(
    tx,
    keyring,
    owner.userId,
    { name: 'passkey_removed', passkeyName: target.name },
    now,
  );
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: owner.userId },
    action: 'passkey.removed',
    target: { type: 'passkey', id: target.id },
    metadata: { name: target.name, lastFactor },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
  });
}
