/**
 * Relying parties of the tenant's OpenID Provider (docs/oidc-provider.md "Registering an app").
 *
 * Guarantees: redirect URIs are absolute, without fragments or wildcards, and the provider matches
 * them exactly; a confidential client's secret is shown once and only its SHA-256 is stored (32
 * random bytes need no stretching, docs/design.md rule 4); public clients (SPAs, mobile and CLI
 * apps) have no secret and the provider requires PKCE S256 of every client. A revoked client
 * resolves to nothing, so its tokens can no longer be refreshed. Every change is audited.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { oidcClients, oidcPayloads, type OidcClientKind, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { sha256 } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import { userAuditOf, type OidcUserActor } from './actor.js';

export const MAX_OIDC_CLIENTS = 100;
/** Scopes the provider knows; a client may be limited to some of them. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
const API_SCOPE_PATTERN = /^[a-z][a-z0-9_.-]{0,40}:[a-z][a-z0-9_.-]{0,40}$/;

export interface CreateOidcClientParams {
  name: string;
  kind: OidcClientKind;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | undefined;
  /** OIDC scopes and API scopes (`orders:read`) the client may ask for. */
  scopes: string[];
}

export interface OidcClientView {
  id: string;
  clientId: string;
  name: string;
  kind: OidcClientKind;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  scopes: string[];
  secretPrefix: string | null;
  createdAt: string;
  revokedAt: string | null;
}

type ClientRow = typeof oidcClients.$inferSelect;

function viewOf(row: ClientRow): OidcClientView {
  return {
    id: row.id,
    clientId: row.clientId,
    name: row.name,
    kind: row.kind,
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    backchannelLogoutUri: row.backchannelLogoutUri,
    scopes: row.scopes,
    secretPrefix: row.secretPrefix,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** RFC 9700 §2.1 and RFC 8252 §7: which redirect URIs each kind of client may register. */
function checkRedirectUri(kind: OidcClientKind, raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AuthError('invalid_input', { detail: 'A redirect URI is not an absolute URL.' });
  }
  if (url.hash !== '' || raw.includes('#') || raw.includes('*'))
    throw new AuthError('invalid_input', { detail: 'Redirect URIs have no fragment or wildcard.' });
  if (url.username !== '' || url.password !== '')
    throw new AuthError('invalid_input', { detail: 'Redirect URIs carry no credentials.' });
  const loopback = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol === 'https:' || loopback) return;
  // RFC 8252 §7.1: a native app's private-use scheme is a reverse domain name it controls.
  if (kind === 'native' && /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+:$/.test(url.protocol)) return;
  throw new AuthError('invalid_input', {
    detail:
      kind === 'native'
        ? 'Redirect URIs use https, a loopback address, or a reverse-domain scheme.'
        : 'Redirect URIs use https (http only on localhost).',
  });
}

function checkParams(params: CreateOidcClientParams): void {
  const redirects = params.kind === 'machine' ? [] : params.redirectUris;
  if (params.kind !== 'machine' && redirects.length === 0)
    throw new AuthError('invalid_input', { detail: 'At least one redirect URI is needed.' });
  if (params.kind === 'machine' && params.redirectUris.length > 0)
    throw new AuthError('invalid_input', { detail: 'Machine clients have no redirect URIs.' });
  for (const uri of [...redirects, ...params.postLogoutRedirectUris])
    checkRedirectUri(params.kind, uri);
  if (params.backchannelLogoutUri !== undefined) {
    const url = URL.canParse(params.backchannelLogoutUri)
      ? new URL(params.backchannelLogoutUri)
      : null;
    const ok =
      url !== null &&
      url.hash === '' &&
      (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)));
    if (!ok || params.kind === 'machine')
      throw new AuthError('invalid_input', { detail: 'The back-channel logout URI is not valid.' });
  }
  for (const scope of params.scopes) {
    const known = (OIDC_SCOPES as readonly string[]).includes(scope);
    if (!known && !API_SCOPE_PATTERN.test(scope))
      throw new AuthError('invalid_input', { detail: `Unknown scope: ${scope.slice(0, 60)}` });
    if (params.kind === 'machine' && known)
      throw new AuthError('invalid_input', { detail: 'Machine clients get API scopes only.' });
  }
}

/** Registers a client; `clientSecret` (confidential kinds only) is shown once and never stored. */
export async function createOidcClient(
  tx: TenantTx,
  actor: OidcUserActor,
  params: CreateOidcClientParams,
  now: Date,
): Promise<{ client: OidcClientView; clientSecret: string | null }> {
  checkParams(params);
  const live = await tx
    .select({ id: oidcClients.id })
    .from(oidcClients)
    .where(isNull(oidcClients.revokedAt));
  if (live.length >= MAX_OIDC_CLIENTS)
    throw new AuthError('conflict', { detail: `At most ${MAX_OIDC_CLIENTS} live clients.` });
  const confidential = params.kind === 'web' || params.kind === 'machine';
  const clientSecret = confidential ? `ocs_${randomBytes(32).toString('base64url')}` : null;
  const [row] = await tx
    .insert(oidcClients)
    .values({
      tenantId: tx.tenantId,
      clientId: `oc_${randomBytes(16).toString('base64url')}`,
      name: params.name,
      kind: params.kind,
      redirectUris: params.kind === 'machine' ? [] : [...new Set(params.redirectUris)],
      postLogoutRedirectUris: [...new Set(params.postLogoutRedirectUris)],
      backchannelLogoutUri: params.backchannelLogoutUri ?? null,
      scopes: [...new Set(params.scopes)],
      secretHash: clientSecret ? sha256(clientSecret) : null,
      secretPrefix: clientSecret ? clientSecret.slice(0, 8) : null,
      createdBy: actor.userId,
      createdAt: now,
    })
    .returning();
  if (!row) throw new Error('oidc client insert returned nothing');
  const client = viewOf(row);
  await recordAuditEvent(tx, {
    ...userAuditOf(actor),
    action: 'oidc.client.created',
    target: { type: 'oidc_client', id: row.id },
    after: { ...client, createdAt: undefined, revokedAt: undefined },
    occurredAt: now,
  });
  return { client, clientSecret };
}

export async function listOidcClients(tx: TenantTx): Promise<OidcClientView[]> {
  const rows = await tx
    .select()
    .from(oidcClients)
    .orderBy(asc(oidcClients.createdAt), asc(oidcClients.id));
  return rows.map(viewOf);
}

/**
 * Revokes a client and deletes everything the provider holds for it (grants, codes, refresh
 * tokens): its users must authorise again if it is ever registered anew.
 */
export async function revokeOidcClient(
  tx: TenantTx,
  actor: OidcUserActor,
  id: string,
  now: Date,
): Promise<void> {
  const [row] = await tx
    .update(oidcClients)
    .set({ revokedAt: now })
    .where(and(eq(oidcClients.id, id), isNull(oidcClients.revokedAt)))
    .returning({ id: oidcClients.id, clientId: oidcClients.clientId, name: oidcClients.name });
  if (!row) throw new AuthError('not_found');
  await tx.delete(oidcPayloads).where(eq(oidcPayloads.clientId, row.clientId));
  await recordAuditEvent(tx, {
    ...userAuditOf(actor),
    action: 'oidc.client.revoked',
    target: { type: 'oidc_client', id: row.id },
    before: { clientId: row.clientId, name: row.name },
    occurredAt: now,
  });
}

/** A live client, as the provider's client metadata (RFC 7591 names); null when unknown or revoked. */
export async function findOidcClientMetadata(
  tx: TenantTx,
  clientId: string,
): Promise<Record<string, unknown> | null> {
  const [row] = await tx
    .select()
    .from(oidcClients)
    .where(and(eq(oidcClients.clientId, clientId), isNull(oidcClients.revokedAt)))
    .limit(1);
  return row ? metadataOf(row) : null;
}

export async function findOidcClientName(tx: TenantTx, clientId: string): Promise<string | null> {
  const [row] = await tx
    .select({ name: oidcClients.name })
    .from(oidcClients)
    .where(eq(oidcClients.clientId, clientId))
    .limit(1);
  return row?.name ?? null;
}

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

function metadataOf(row: ClientRow): Record<string, unknown> {
  const machine = row.kind === 'machine';
  const oidcScopes = row.scopes.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s));
  const common = {
    client_id: row.clientId,
    client_name: row.name,
    // The provider knows only OpenID scopes; API scopes are the tenant API's (provider-factory.ts).
    ...(oidcScopes.length ? { scope: oidcScopes.join(' ') } : {}),
    api_scopes: row.scopes.filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s)),
    // The provider compares a presented secret with this through the SHA-256 the adapter
    // installs (compareClientSecret); the secret itself is never known here.
    ...(row.secretHash ? { client_secret: row.secretHash.toString('hex') } : {}),
    token_endpoint_auth_method: row.secretHash ? 'client_secret_basic' : 'none',
    id_token_signed_response_alg: 'RS256',
  };
  if (machine)
    return {
      ...common,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    };
  return {
    ...common,
    application_type: row.kind === 'native' ? 'native' : 'web',
    grant_types:
      row.kind === 'native'
        ? ['authorization_code', 'refresh_token', DEVICE_CODE]
        : ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: row.redirectUris,
    post_logout_redirect_uris: row.postLogoutRedirectUris,
    ...(row.backchannelLogoutUri
      ? {
          backchannel_logout_uri: row.backchannelLogoutUri,
          backchannel_logout_session_required: true,
        }
      : {}),
  };
}
