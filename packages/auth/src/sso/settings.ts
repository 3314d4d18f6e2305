/**
 * A tenant's SSO settings: its own OIDC connection (client secret encrypted under the keyring,
 * bound to ('sso.client_secret', tenant, row)) and the platform providers it accepts. Changes are
 * audited in the same transaction. Fields that decide whom an identity provider may sign in as
 * (issuer, client, enabling, trusting the provider's MFA) are owner-only: an admin who could point
 * the connection at an IdP of their own could assert an owner's verified e-mail and take the
 * owner's account, and only owners act on owners (docs/design.md "Identity"). docs/sso.md.
 */
import { holdsPermission } from '../roles/permissions.js';
import { randomUUID } from 'node:crypto';
import { and, eq, ne } from 'drizzle-orm';
import {
  ssoSettings,
  tenants,
  userIdentities,
  withTenant,
  type Database,
  type SsoSettingsRow,
  type TenantTx,
} from '@tessera/db';
import type { Actor } from '../context/actor.js';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { AuthError } from '../errors.js';
import { checkOutboundUrl, type OutboundPolicy, type Resolver } from '../outbound/outbound-url.js';
import {
  TENANT_PROVIDER,
  type PlatformProvider,
  type PlatformProviderInfo,
} from './platform-providers.js';
import type { TenantUseCase } from '../context/use-case.js';

export const CLIENT_SECRET_PURPOSE = 'sso.client_secret';

export interface SsoDeps {
  keyring: Keyring;
  outbound: OutboundPolicy;
  platformProviders: readonly PlatformProviderInfo[];
  /** Console origin; the callback URL an IdP must register is derived from it. */
  publicUrl: string;
  /** DNS for the issuer check (tests inject one). */
  resolve?: Resolver;
}

export interface SsoSettingsView {
  enabled: boolean;
  displayName: string | null;
  issuer: string | null;
  clientId: string | null;
  /** The secret itself is never returned. */
  clientSecretSet: boolean;
  jitProvisioning: boolean;
  trustProviderMfa: boolean;
  platformProviders: string[];
  availablePlatformProviders: PlatformProviderInfo[];
  /** Register this redirect URI at the tenant's identity provider. */
  callbackUrl: string;
  /** Where the console's "Sign in with SSO" button points. */
  startUrl: string;
}

export interface SsoSettingsPatch {
  enabled?: boolean | undefined;
  displayName?: string | null | undefined;
  issuer?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  jitProvisioning?: boolean | undefined;
  trustProviderMfa?: boolean | undefined;
  platformProviders?: readonly string[] | undefined;
}

const OWNER_ONLY = ['enabled', 'issuer', 'clientId', 'clientSecret', 'trustProviderMfa'] as const;

export const tenantProviderId = (slug: string): string => `tenant-${slug}`;

export function ssoUrls(
  publicUrl: string,
  slug: string,
): { callbackUrl: string; startUrl: string } {
  return {
    callbackUrl: `${publicUrl}/auth/callback/${tenantProviderId(slug)}`,
    startUrl: `${publicUrl}/auth/sso/${slug}/start`,
  };
}

function toView(row: SsoSettingsRow | undefined, deps: SsoDeps, slug: string): SsoSettingsView {
  return {
    enabled: row?.enabled ?? false,
    displayName: row?.displayName ?? null,
    issuer: row?.issuer ?? null,
    clientId: row?.clientId ?? null,
    clientSecretSet: Boolean(row?.clientSecretCiphertext),
    jitProvisioning: row?.jitProvisioning ?? false,
    trustProviderMfa: row?.trustProviderMfa ?? false,
    platformProviders: (row?.platformProviders ?? []).filter((id) =>
      deps.platformProviders.some((p) => p.id === id),
    ),
    availablePlatformProviders: [...deps.platformProviders],
    ...ssoUrls(deps.publicUrl, slug),
  };
}

async function tenantSlug(tx: TenantTx): Promise<string> {
  const [tenant] = await tx.select({ slug: tenants.slug }).from(tenants);
  if (!tenant) throw new AuthError('not_found');
  return tenant.slug;
}

export async function getSsoSettings(tx: TenantTx, deps: SsoDeps): Promise<SsoSettingsView> {
  const [row] = await tx.select().from(ssoSettings);
  return toView(row, deps, await tenantSlug(tx));
}

async function validatePatch(deps: SsoDeps, actor: Actor, patch: SsoSettingsPatch): Promise<void> {
  if (!holdsPermission(actor.role, actor.customPermissions, 'sso:write'))
    throw new AuthError('forbidden');
  const ownerOnly = OWNER_ONLY.filter((key) => patch[key] !== undefined);
  if (actor.role !== 'owner' && ownerOnly.length > 0) {
    throw new AuthError('forbidden', {
      detail: 'Only owners change the identity provider connection.',
      field: ownerOnly[0] ?? 'enabled',
    });
  }
  for (const id of patch.platformProviders ?? []) {
    if (!deps.platformProviders.some((p) => p.id === id))
      throw new AuthError('invalid_input', {
        detail: `Unknown platform provider "${id}".`,
        field: 'platformProviders',
      });
  }
  if (patch.issuer !== undefined)
    await checkOutboundUrl(patch.issuer, deps.outbound, 'issuer', deps.resolve);
}

/** A patch `checkSsoSettingsPatch` accepted: only it makes one, so no update skips the check. */
export interface CheckedSsoSettingsPatch {
  readonly patch: SsoSettingsPatch;
  readonly [checked]: true;
}
declare const checked: unique symbol;

/**
 * Checks a patch before any transaction opens: the caller's role, owner-only fields, known
 * platform providers, and the issuer against the outbound rule, whose DNS lookup must not hold a
 * pooled connection. `updateSsoSettings` takes only what this returns.
 */
export async function checkSsoSettingsPatch(
  uc: { actor: Actor; deps: SsoDeps },
  patch: SsoSettingsPatch,
): Promise<CheckedSsoSettingsPatch> {
  await validatePatch(uc.deps, uc.actor, patch);
  return { patch } as CheckedSsoSettingsPatch;
}

/** Applies a checked patch in the caller's tenant transaction and audits it there. */
export async function updateSsoSettings(
  tx: TenantTx,
  uc: TenantUseCase & { deps: SsoDeps },
  checkedPatch: CheckedSsoSettingsPatch,
): Promise<SsoSettingsView> {
  const { deps, actor, request, now } = uc;
  const { patch } = checkedPatch;
  const [current] = await tx.select().from(ssoSettings).for('update');
  const id = current?.id ?? randomUUID();
  const secret =
    patch.clientSecret === undefined
      ? (current?.clientSecretCiphertext ?? null)
      : deps.keyring.encrypt(patch.clientSecret, {
          purpose: CLIENT_SECRET_PURPOSE,
          tenantId: tx.tenantId,
          rowId: id,
        });
  const next = {
    enabled: patch.enabled ?? current?.enabled ?? false,
    displayName:
      patch.displayName === undefined ? (current?.displayName ?? null) : patch.displayName,
    issuer: patch.issuer ?? current?.issuer ?? null,
    clientId: patch.clientId ?? current?.clientId ?? null,
    clientSecretCiphertext: secret,
    jitProvisioning: patch.jitProvisioning ?? current?.jitProvisioning ?? false,
    trustProviderMfa: patch.trustProviderMfa ?? current?.trustProviderMfa ?? false,
    platformProviders: [...new Set(patch.platformProviders ?? current?.platformProviders ?? [])],
    updatedAt: now,
  };
  if (next.enabled && !(next.issuer && next.clientId && next.clientSecretCiphertext)) {
    throw new AuthError('invalid_input', {
      detail: 'Set the issuer, client id and client secret before enabling single sign-on.',
      field: 'enabled',
    });
  }
  if (current) await tx.update(ssoSettings).set(next).where(eq(ssoSettings.id, id));
  else await tx.insert(ssoSettings).values({ id, tenantId: tx.tenantId, createdAt: now, ...next });
  // OIDC Core §5.7: a subject means nothing under another issuer; links to the old one go.
  const removed =
    current?.issuer && current.issuer !== next.issuer
      ? await tx
          .delete(userIdentities)
          .where(
            and(
              eq(userIdentities.provider, TENANT_PROVIDER),
              ne(userIdentities.issuer, next.issuer ?? ''),
            ),
          )
          .returning({ id: userIdentities.id })
      : [];
  const slug = await tenantSlug(tx);
  const before = current ? auditView(toView(current, deps, slug)) : null;
  const after = auditView(
    toView({ ...(current ?? { id, tenantId: tx.tenantId, createdAt: now }), ...next }, deps, slug),
  );
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'tenant.sso.updated',
    target: { type: 'tenant', id: tx.tenantId },
    ip: request.ip,
    userAgent: request.userAgent,
    before,
    after,
    occurredAt: now,
    metadata: {
      clientSecretChanged: patch.clientSecret !== undefined,
      identitiesRemoved: removed.length,
    },
  });
  return toView(
    { ...(current ?? { id, tenantId: tx.tenantId, createdAt: now }), ...next },
    deps,
    slug,
  );
}

function auditView(view: SsoSettingsView): Record<string, unknown> {
  const {
    enabled,
    displayName,
    issuer,
    clientId,
    clientSecretSet,
    jitProvisioning,
    trustProviderMfa,
    platformProviders,
  } = view;
  return {
    enabled,
    displayName,
    issuer,
    clientId,
    clientSecretSet,
    jitProvisioning,
    trustProviderMfa,
    platformProviders,
  };
}

/** What a sign-in flow needs to talk to one provider for one tenant; holds the clear secret. */
export interface SsoConnection {
  tenantId: string;
  /** 'tenant' or a platform provider id (user_identities.provider). */
  provider: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  jitProvisioning: boolean;
  trustProviderMfa: boolean;
}

/**
 * The connection for (tenant, provider), or null when the tenant does not offer it. JIT and
 * trusting the provider's MFA apply to the tenant's own connection only (docs/sso.md).
 */
export async function loadSsoConnection(
  db: Database,
  keyring: Keyring,
  platform: readonly PlatformProvider[],
  tenantId: string,
  provider: string,
): Promise<SsoConnection | null> {
  const [row] = await withTenant(db, tenantId, (tx) => tx.select().from(ssoSettings), {
    readOnly: true,
  });
  if (!row) return null;
  if (provider === TENANT_PROVIDER) {
    if (!row.enabled || !row.issuer || !row.clientId || !row.clientSecretCiphertext) return null;
    const clientSecret = keyring.decryptString(row.clientSecretCiphertext, {
      purpose: CLIENT_SECRET_PURPOSE,
      tenantId,
      rowId: row.id,
    });
    return {
      tenantId,
      provider,
      name: row.displayName ?? 'Single sign-on',
      issuer: row.issuer,
      clientId: row.clientId,
      clientSecret,
      jitProvisioning: row.jitProvisioning,
      trustProviderMfa: row.trustProviderMfa,
    };
  }
  const shared = platform.find((p) => p.id === provider);
  if (!shared || !row.platformProviders.includes(provider)) return null;
  return {
    tenantId,
    provider,
    name: shared.name,
    issuer: shared.issuer,
    clientId: shared.clientId,
    clientSecret: shared.clientSecret,
    jitProvisioning: false,
    trustProviderMfa: false,
  };
}
