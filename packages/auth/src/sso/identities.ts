/**
 * A signed-in user's linked identities: list and unlink. Unlinking never removes the last way to
 * sign in: a user without a password keeps at least one identity whose provider the tenant still
 * offers. The user row is locked first, so two concurrent unlinks cannot both pass the check.
 * Pinned by identities.db.test.ts.
 */
import { and, eq } from 'drizzle-orm';
import {
  samlConnections,
  ssoSettings,
  userIdentities,
  users,
  type SsoSettingsRow,
  type TenantTx,
} from '@tessera/db';
import type { Actor } from '../context/actor.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { TENANT_PROVIDER, type PlatformProviderInfo } from './platform-providers.js';
import { samlProviderKey } from './saml-connections.js';
import type { TenantUseCase } from '../context/use-case.js';

/** SAML connections by their identity provider key: name and whether they are enabled. */
type SamlKeys = Map<string, { name: string; enabled: boolean }>;

async function samlKeys(tx: Pick<TenantTx, 'select'>): Promise<SamlKeys> {
  const rows = await tx
    .select({
      id: samlConnections.id,
      name: samlConnections.name,
      enabled: samlConnections.enabled,
    })
    .from(samlConnections);
  return new Map(rows.map((r) => [samlProviderKey(r.id), { name: r.name, enabled: r.enabled }]));
}

export interface IdentityView {
  id: string;
  provider: string;
  /** Display name of the provider as the tenant configured it. */
  providerName: string;
  createdAt: string;
  lastUsedAt: string | null;
}

function providerName(
  provider: string,
  settings: SsoSettingsRow | undefined,
  platform: readonly PlatformProviderInfo[],
  saml: SamlKeys,
): string {
  const connection = saml.get(provider);
  if (connection) return connection.name;
  if (provider === TENANT_PROVIDER) return settings?.displayName ?? 'Single sign-on';
  return platform.find((p) => p.id === provider)?.name ?? provider;
}

/** Can this identity still be used to sign in (the tenant offers its provider)? */
function usable(
  provider: string,
  settings: SsoSettingsRow | undefined,
  platform: readonly PlatformProviderInfo[],
  saml: SamlKeys,
): boolean {
  const connection = saml.get(provider);
  if (connection) return connection.enabled;
  if (!settings) return false;
  if (provider === TENANT_PROVIDER) return settings.enabled;
  return settings.platformProviders.includes(provider) && platform.some((p) => p.id === provider);
}

export async function listIdentities(
  tx: TenantTx,
  actor: Actor,
  platform: readonly PlatformProviderInfo[],
): Promise<IdentityView[]> {
  const [settings] = await tx.select().from(ssoSettings);
  const saml = await samlKeys(tx);
  const rows = await tx
    .select()
    .from(userIdentities)
    .where(eq(userIdentities.userId, actor.userId))
    .orderBy(userIdentities.createdAt);
  return rows.map((row) => ({
    id: row.id,
    provider: row.provider,
    providerName: providerName(row.provider, settings, platform, saml),
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  }));
}

export async function unlinkIdentity(
  tx: TenantTx,
  uc: TenantUseCase,
  identityId: string,
  platform: readonly PlatformProviderInfo[],
): Promise<void> {
  const { actor, request, now } = uc;
  const [user] = await tx
    .select({ passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.id, actor.userId))
    .for('update');
  if (!user) throw new AuthError('not_found');
  const mine = await tx
    .select()
    .from(userIdentities)
    .where(eq(userIdentities.userId, actor.userId));
  const target = mine.find((row) => row.id === identityId);
  if (!target) throw new AuthError('not_found'); // another user's identity looks the same as none
  const [settings] = await tx.select().from(ssoSettings);
  const saml = await samlKeys(tx);
  const remaining = mine.filter(
    (row) => row.id !== identityId && usable(row.provider, settings, platform, saml),
  );
  if (!user.passwordHash && remaining.length === 0) {
    throw new AuthError('conflict', {
      detail: 'This is your only way to sign in. Set a password or link another sign-in first.',
      field: 'identityId',
    });
  }
  await tx
    .delete(userIdentities)
    .where(and(eq(userIdentities.id, identityId), eq(userIdentities.userId, actor.userId)));
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'auth.sso.identity_unlinked',
    target: { type: 'user', id: actor.userId },
    ip: request.ip,
    userAgent: request.userAgent,
    occurredAt: now,
    metadata: { provider: target.provider, identityId },
  });
}
