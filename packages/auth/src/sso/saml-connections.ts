/**
 * A tenant's SAML 2.0 connections (docs/sso.md "SAML"): one service provider per connection, each
 * with its identity provider's entity id, single sign-on URL and one or two signing certificates
 * (two while the IdP rotates its key). Reading is for owners and admins. Every field that decides
 * whom an IdP may sign in as (the IdP itself, its certificates, trusting its addresses or its MFA,
 * the attributes read, group-to-role rules, IdP-initiated sign-in, enabling) is owner-only, as for
 * the OIDC connection (settings.ts): an admin who could point a connection at an IdP of their own
 * could assert an owner's address. Admins may rename a connection and switch just-in-time
 * provisioning. Every change is audited in the caller's tenant transaction (`ctx.withTenant`); a
 * create or update resolves the IdP's metadata first, outside it (`prepareSamlConnection`); the
 * procedures add step-up.
 * Pinned by packages/api/src/plugins/saml-admin.security.test.ts and saml.security.test.ts.
 */
import { assertMayAssign } from '../roles/grant-rule.js';
import { BUILT_IN_ROLE_PERMISSIONS, holdsPermission } from '../roles/permissions.js';
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import {
  samlConnections,
  tenants,
  userIdentities,
  withTenant,
  type Database,
  type SamlConnectionRow,
  type SamlGroupRole,
  type TenantTx,
} from '@tessera/db';
import type { Actor } from '../context/actor.js';
import type { TenantUseCase } from '../context/use-case.js';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { createGuardedFetch, type FetchLike } from '../outbound/guarded-fetch.js';
import { checkOutboundUrl, type OutboundPolicy, type Resolver } from '../outbound/outbound-url.js';
import {
  describeCertificate,
  fetchIdpMetadata,
  normalizeCertificate,
  parseIdpMetadata,
  type IdpMetadata,
} from './saml-metadata.js';

export const MAX_SAML_CONNECTIONS = 10;

/** AuthnContextClassRef values (and Entra's authnmethodsreferences value) that mean a second factor. */
export const DEFAULT_SAML_MFA_CONTEXTS: readonly string[] = [
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken',
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
  'http://schemas.microsoft.com/claims/multipleauthn',
];

export interface SamlDeps {
  outbound: OutboundPolicy;
  /** Console origin; every SP URL is derived from it. */
  publicUrl: string;
  resolve?: Resolver;
  /** Tests inject one; default: the guarded fetch under `outbound`. */
  fetch?: FetchLike;
}

export interface SamlCertificateView {
  subject: string;
  notAfter: string;
  fingerprint: string;
}

export interface SamlSpUrls {
  /** The SP entity id, which is also the URL of its metadata. */
  spEntityId: string;
  metadataUrl: string;
  /** Assertion consumer service (HTTP-POST). */
  acsUrl: string;
  /** Where a "Sign in with SAML" button (and the console's test sign-in) points. */
  startUrl: string;
}

export interface SamlConnectionView extends SamlSpUrls {
  id: string;
  name: string;
  enabled: boolean;
  idpEntityID: string | null;
  idpSsoUrl: string | null;
  idpMetadataUrl: string | null;
  certificates: SamlCertificateView[];
  allowIdpInitiated: boolean;
  jitProvisioning: boolean;
  emailsVerified: boolean;
  trustIdpMfa: boolean;
  mfaContexts: string[];
  emailAttribute: string | null;
  nameAttribute: string | null;
  groupsAttribute: string | null;
  groupRoles: SamlGroupRole[];
  createdAt: string;
  updatedAt: string;
}

export interface SamlConnectionPatch {
  name?: string | undefined;
  enabled?: boolean | undefined;
  /** IdP metadata as XML, or a URL to fetch it from (through the outbound rule). */
  metadataXml?: string | undefined;
  metadataUrl?: string | undefined;
  idpEntityID?: string | undefined;
  idpSsoUrl?: string | undefined;
  /** PEM or base64 DER; one, or two during a rotation. Replaces the list. */
  certificates?: readonly string[] | undefined;
  allowIdpInitiated?: boolean | undefined;
  jitProvisioning?: boolean | undefined;
  emailsVerified?: boolean | undefined;
  trustIdpMfa?: boolean | undefined;
  mfaContexts?: readonly string[] | undefined;
  emailAttribute?: string | null | undefined;
  nameAttribute?: string | null | undefined;
  groupsAttribute?: string | null | undefined;
  groupRoles?: readonly SamlGroupRole[] | undefined;
}

const ADMIN_FIELDS = new Set<keyof SamlConnectionPatch>(['name', 'jitProvisioning']);

export function samlUrls(publicUrl: string, slug: string, id: string): SamlSpUrls {
  const base = `${publicUrl}/auth/saml/${slug}/${id}`;
  return {
    spEntityId: `${base}/metadata`,
    metadataUrl: `${base}/metadata`,
    acsUrl: `${base}/acs`,
    startUrl: `${base}/start`,
  };
}

/** `user_identities.provider` of a SAML connection: one namespace of subjects per connection. */
export const samlProviderKey = (connectionId: string): string =>
  `saml-${connectionId.replace(/-/g, '')}`;

function certificateViews(ders: readonly string[]): SamlCertificateView[] {
  return ders.map((der) => {
    try {
      return describeCertificate(der);
    } catch {
      return { subject: '(unreadable)', notAfter: '', fingerprint: '' };
    }
  });
}

function toView(row: SamlConnectionRow, publicUrl: string, slug: string): SamlConnectionView {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    idpEntityID: row.idpEntityID,
    idpSsoUrl: row.idpSsoUrl,
    idpMetadataUrl: row.idpMetadataUrl,
    certificates: certificateViews(row.idpCertificates),
    allowIdpInitiated: row.allowIdpInitiated,
    jitProvisioning: row.jitProvisioning,
    emailsVerified: row.emailsVerified,
    trustIdpMfa: row.trustIdpMfa,
    mfaContexts: row.mfaContexts,
    emailAttribute: row.emailAttribute,
    nameAttribute: row.nameAttribute,
    groupsAttribute: row.groupsAttribute,
    groupRoles: row.groupRoles,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...samlUrls(publicUrl, slug, row.id),
  };
}

async function tenantSlug(tx: TenantTx): Promise<string> {
  const [tenant] = await tx.select({ slug: tenants.slug }).from(tenants);
  if (!tenant) throw new AuthError('not_found');
  return tenant.slug;
}

/** Defence in depth behind the procedures' access (docs/roles.md). */
function requireManager(actor: Actor, permission: 'saml:read' | 'saml:write' = 'saml:write'): void {
  if (!holdsPermission(actor.role, actor.customPermissions, permission))
    throw new AuthError('forbidden');
}

/** Creating, deleting and changing how a connection signs people in: saml:manage (the owner's). */
function requireOwner(actor: Actor, field: string): void {
  if (!holdsPermission(actor.role, actor.customPermissions, 'saml:manage'))
    throw new AuthError('forbidden', {
      detail: 'Only owners change how a SAML connection signs people in.',
      field,
    });
}

/** The tenant's connections, in the caller's (read-only) tenant transaction. */
export async function listSamlConnections(
  tx: TenantTx,
  uc: Pick<TenantUseCase, 'actor'> & { deps: Pick<SamlDeps, 'publicUrl'> },
): Promise<SamlConnectionView[]> {
  requireManager(uc.actor, 'saml:read');
  const slug = await tenantSlug(tx);
  const rows = await tx.select().from(samlConnections).orderBy(samlConnections.createdAt);
  return rows.map((row) => toView(row, uc.deps.publicUrl, slug));
}

/** Metadata fields of a patch, resolved (URL fetched, XML parsed) before any transaction. */
async function resolveMetadata(
  deps: SamlDeps,
  patch: SamlConnectionPatch,
): Promise<Partial<IdpMetadata> & { metadataUrl?: string }> {
  if (patch.metadataXml !== undefined && patch.metadataUrl !== undefined)
    throw new AuthError('invalid_input', {
      detail: 'Give the metadata as XML or as a URL, not both.',
      field: 'metadataUrl',
    });
  if (patch.metadataXml !== undefined) return parseIdpMetadata(patch.metadataXml);
  if (patch.metadataUrl !== undefined) {
    await checkOutboundUrl(patch.metadataUrl, deps.outbound, 'metadataUrl', deps.resolve);
    const fetch = deps.fetch ?? createGuardedFetch(deps.outbound);
    return {
      ...(await fetchIdpMetadata(fetch, patch.metadataUrl)),
      metadataUrl: patch.metadataUrl,
    };
  }
  const out: Partial<IdpMetadata> = {};
  if (patch.idpEntityID !== undefined) out.entityId = patch.idpEntityID;
  if (patch.idpSsoUrl !== undefined) {
    await checkOutboundUrl(patch.idpSsoUrl, deps.outbound, 'idpSsoUrl', deps.resolve);
    out.ssoUrl = patch.idpSsoUrl;
  }
  if (patch.certificates !== undefined) {
    if (patch.certificates.length < 1 || patch.certificates.length > 2)
      throw new AuthError('invalid_input', {
        detail: 'Give one signing certificate, or two while the identity provider rotates.',
        field: 'certificates',
      });
    out.certificates = [...new Set(patch.certificates.map((c) => normalizeCertificate(c)))];
  }
  return out;
}

function checkRoles(actor: Actor, patch: SamlConnectionPatch): void {
  // Mapping IdP groups to roles hands those roles out: the escalation rule (docs/roles.md).
  for (const { role } of patch.groupRoles ?? [])
    assertMayAssign(actor, { role, custom: false }, BUILT_IN_ROLE_PERMISSIONS[role]);
  // saml:manage covers every field; saml:write only the admin fields.
  if (holdsPermission(actor.role, actor.customPermissions, 'saml:manage')) return;
  requireManager(actor);
  for (const key of Object.keys(patch) as (keyof SamlConnectionPatch)[]) {
    if (patch[key] !== undefined && !ADMIN_FIELDS.has(key)) requireOwner(actor, key);
  }
}

type Next = Omit<SamlConnectionRow, 'id' | 'tenantId' | 'createdAt'>;

function merge(
  current: SamlConnectionRow | undefined,
  patch: SamlConnectionPatch,
  meta: Partial<IdpMetadata> & { metadataUrl?: string },
  now: Date,
): Next {
  const keep = <K extends keyof Next>(key: K, fallback: Next[K]): Next[K] =>
    current ? current[key] : fallback;
  const nullable = (value: string | null | undefined, key: keyof Next): string | null =>
    value === undefined ? (keep(key, null) as string | null) : value;
  return {
    name: patch.name ?? keep('name', 'SAML'),
    enabled: patch.enabled ?? keep('enabled', false),
    idpEntityID: meta.entityId ?? keep('idpEntityID', null),
    idpSsoUrl: meta.ssoUrl ?? keep('idpSsoUrl', null),
    idpCertificates: meta.certificates ?? keep('idpCertificates', []),
    idpMetadataUrl:
      meta.metadataUrl ?? (patch.metadataXml !== undefined ? null : keep('idpMetadataUrl', null)),
    allowIdpInitiated: patch.allowIdpInitiated ?? keep('allowIdpInitiated', false),
    jitProvisioning: patch.jitProvisioning ?? keep('jitProvisioning', false),
    emailsVerified: patch.emailsVerified ?? keep('emailsVerified', false),
    trustIdpMfa: patch.trustIdpMfa ?? keep('trustIdpMfa', false),
    mfaContexts: patch.mfaContexts
      ? [...new Set(patch.mfaContexts)]
      : keep('mfaContexts', [...DEFAULT_SAML_MFA_CONTEXTS]),
    emailAttribute: nullable(patch.emailAttribute, 'emailAttribute'),
    nameAttribute: nullable(patch.nameAttribute, 'nameAttribute'),
    groupsAttribute: nullable(patch.groupsAttribute, 'groupsAttribute'),
    groupRoles: patch.groupRoles ? [...patch.groupRoles] : keep('groupRoles', []),
    updatedAt: now,
  };
}

function auditView(row: Next | SamlConnectionRow): Record<string, unknown> {
  return {
    name: row.name,
    enabled: row.enabled,
    idpEntityID: row.idpEntityID,
    idpSsoUrl: row.idpSsoUrl,
    idpMetadataUrl: row.idpMetadataUrl,
    certificateFingerprints: certificateViews(row.idpCertificates).map((c) => c.fingerprint),
    allowIdpInitiated: row.allowIdpInitiated,
    jitProvisioning: row.jitProvisioning,
    emailsVerified: row.emailsVerified,
    trustIdpMfa: row.trustIdpMfa,
    mfaContexts: row.mfaContexts,
    emailAttribute: row.emailAttribute,
    nameAttribute: row.nameAttribute,
    groupsAttribute: row.groupsAttribute,
    groupRoles: row.groupRoles,
  };
}

/**
 * A change `prepareSamlConnection` accepted: the caller's roles checked and the IdP metadata
 * resolved (its URL fetched, its XML parsed). Only that function makes one, so no save skips it.
 */
export interface PreparedSamlConnection {
  /** The connection to update, or null to create one. */
  readonly id: string | null;
  readonly patch: SamlConnectionPatch;
  readonly metadata: Partial<IdpMetadata> & { metadataUrl?: string };
  readonly [prepared]: true;
}
declare const prepared: unique symbol;

/**
 * First step of a create (id null) or an update, before any transaction opens: owner-only fields
 * refused to admins, and the metadata fetched through the outbound rule, so no pooled connection
 * waits on the identity provider or on DNS.
 */
export async function prepareSamlConnection(
  uc: { actor: Actor; deps: SamlDeps },
  id: string | null,
  patch: SamlConnectionPatch,
): Promise<PreparedSamlConnection> {
  if (id === null) requireOwner(uc.actor, 'id');
  checkRoles(uc.actor, patch);
  const metadata = await resolveMetadata(uc.deps, patch);
  return { id, patch, metadata } as PreparedSamlConnection;
}

/**
 * Second step, in the caller's tenant transaction: creates or updates the connection and audits
 * it; returns the view as it will commit.
 */
export async function saveSamlConnection(
  tx: TenantTx,
  uc: TenantUseCase & { deps: Pick<SamlDeps, 'publicUrl'> },
  change: PreparedSamlConnection,
): Promise<SamlConnectionView> {
  const { actor, deps, request, now } = uc;
  const { id, patch, metadata: meta } = change;
  let current: SamlConnectionRow | undefined;
  if (id !== null) {
    [current] = await tx
      .select()
      .from(samlConnections)
      .where(eq(samlConnections.id, id))
      .for('update');
    if (!current) throw new AuthError('not_found');
  } else {
    const existing = await tx.select({ id: samlConnections.id }).from(samlConnections);
    if (existing.length >= MAX_SAML_CONNECTIONS)
      throw new AuthError('conflict', {
        detail: `A tenant has at most ${MAX_SAML_CONNECTIONS} SAML connections.`,
        field: 'name',
      });
  }
  const next = merge(current, patch, meta, now);
  if (next.enabled && !(next.idpEntityID && next.idpSsoUrl && next.idpCertificates.length > 0))
    throw new AuthError('invalid_input', {
      detail:
        'Import the identity provider metadata (or set its entity id, URL and certificate) before enabling the connection.',
      field: 'enabled',
    });
  const rowId = current?.id ?? randomUUID();
  if (current) await tx.update(samlConnections).set(next).where(eq(samlConnections.id, rowId));
  else
    await tx
      .insert(samlConnections)
      .values({ id: rowId, tenantId: tx.tenantId, createdAt: now, ...next });
  // A NameID means nothing under another IdP: links made through the old one go.
  const removed =
    current?.idpEntityID && current.idpEntityID !== next.idpEntityID
      ? await tx
          .delete(userIdentities)
          .where(eq(userIdentities.provider, samlProviderKey(rowId)))
          .returning({ id: userIdentities.id })
      : [];
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: current ? 'tenant.saml.updated' : 'tenant.saml.created',
    target: { type: 'saml_connection', id: rowId },
    ip: request.ip,
    userAgent: request.userAgent,
    before: current ? auditView(current) : null,
    after: auditView(next),
    occurredAt: now,
    metadata: { identitiesRemoved: removed.length },
  });
  const slug = await tenantSlug(tx);
  return toView(
    { id: rowId, tenantId: tx.tenantId, createdAt: current?.createdAt ?? now, ...next },
    deps.publicUrl,
    slug,
  );
}

/** Deletes a connection and the identities linked through it (owner-only). */
export async function deleteSamlConnection(
  tx: TenantTx,
  uc: TenantUseCase,
  id: string,
): Promise<void> {
  const { actor, request, now } = uc;
  requireOwner(actor, 'id');
  const [current] = await tx.delete(samlConnections).where(eq(samlConnections.id, id)).returning();
  if (!current) throw new AuthError('not_found');
  const removed = await tx
    .delete(userIdentities)
    .where(and(eq(userIdentities.provider, samlProviderKey(id))))
    .returning({ id: userIdentities.id });
  await recordAuditEvent(tx, {
    actor: { type: 'user', id: actor.userId },
    action: 'tenant.saml.deleted',
    target: { type: 'saml_connection', id },
    ip: request.ip,
    userAgent: request.userAgent,
    before: auditView(current),
    after: null,
    occurredAt: now,
    metadata: { identitiesRemoved: removed.length },
  });
}

/**
 * An enabled, complete connection as the sign-in flow needs it, or null; with `enabledOnly: false`
 * any existing connection (its SP metadata is published before the IdP is configured).
 */
export async function loadSamlConnection(
  db: Database,
  tenantId: string,
  id: string,
  options: { enabledOnly?: boolean } = {},
): Promise<SamlConnectionRow | null> {
  const [row] = await withTenant(
    db,
    tenantId,
    (tx) => tx.select().from(samlConnections).where(eq(samlConnections.id, id)),
    { readOnly: true },
  );
  if (!row) return null;
  if (options.enabledOnly === false) return row;
  if (!row.enabled || !row.idpEntityID || !row.idpSsoUrl) return null;
  if (row.idpCertificates.length === 0) return null;
  return row;
}
