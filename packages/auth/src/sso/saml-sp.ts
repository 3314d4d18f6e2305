/**
 * The service provider side of SAML 2.0 Web Browser SSO for one connection, on
 * `@node-saml/node-saml` (XML signatures through xml-crypto; nothing of it is written here).
 *
 * Guarantees (docs/sso.md "SAML", docs/threat-model.md): a response is accepted only when
 * - the decoded XML has no DTD, no entity declaration and no comment (XXE, entity expansion, and
 *   the NameID comment-truncation trick are refused before any parsing) and is at most 512 KiB;
 * - the response or its one assertion is signed by one of the connection's certificates (never a
 *   key the document carries); the library returns only the signed content and refuses more than
 *   one assertion, which is what defeats signature wrapping;
 * - the assertion's issuer is the connection's IdP, its audience is this connection's SP entity
 *   id, its bearer SubjectConfirmationData names this connection's ACS URL as Recipient, a
 *   Destination (when present) is that ACS URL, and NotBefore/NotOnOrAfter hold with at most two
 *   minutes of clock skew;
 * - `InResponseTo` names the AuthnRequest this browser started (the id travels in the signed flow
 *   cookie); a response without one is accepted only where the connection allows IdP-initiated
 *   sign-in;
 * - the assertion id was never accepted before for this connection (replay cache in the database,
 *   shared by every process, kept until the assertion expires).
 * Pinned by packages/api/src/plugins/saml.security.test.ts.
 */
import { SAML, ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/node-saml';
import { lt } from 'drizzle-orm';
import { samlAssertionIds, withTenant, type Database, type SamlConnectionRow } from '@tessera/db';
import { samlUrls, type SamlSpUrls } from './saml-connections.js';
import { certificateToPem, hasDoctype } from './saml-metadata.js';
import { parseXml } from './saml-xml.js';

export const SAML_CLOCK_SKEW_MS = 2 * 60_000;
/** How long a started sign-in may take at the IdP. */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;
const MAX_RESPONSE_BYTES = 512 * 1024;
/** A replay-cache row is never kept longer than this, whatever the assertion claims. */
const MAX_REPLAY_WINDOW_MS = 24 * 60 * 60_000;
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'emailAddress',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
];
const NAME_ATTRIBUTES = [
  'displayName',
  'name',
  'http://schemas.microsoft.com/identity/claims/displayname',
  'urn:oid:2.16.840.1.113730.3.1.241',
];
const GROUPS_ATTRIBUTES = [
  'groups',
  'memberOf',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
];
const AUTHN_METHODS_ATTRIBUTE = 'http://schemas.microsoft.com/claims/authnmethodsreferences';

/** What a validated assertion says, mapped through the connection's attribute settings. */
export interface SamlAssertion {
  assertionId: string;
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
  /** AuthnContextClassRef and any authentication-method references the IdP sent. */
  authnContexts: string[];
}

export type SamlRefusalReason =
  | 'malformed' // size, DTD, comment, not XML
  | 'invalid' // signature, timing, audience, InResponseTo: what the library refuses
  | 'wrong_issuer'
  | 'wrong_recipient'
  | 'wrong_destination'
  | 'unsolicited' // no InResponseTo where IdP-initiated sign-in is off
  | 'no_subject'
  | 'replayed';

export class SamlRefusal extends Error {
  override readonly name = 'SamlRefusal';
  constructor(
    readonly reason: SamlRefusalReason,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

/**
 * node-saml asks its cache provider whether an InResponseTo is one of ours. This one knows exactly
 * one id: the request this browser started (from the signed flow cookie), or none.
 */
function oneRequestCache(expected: string | null, onSave?: (id: string) => void): CacheProvider {
  return {
    saveAsync: (key, value) => {
      onSave?.(key);
      return Promise.resolve({ value, createdAt: Date.now() });
    },
    getAsync: (key) =>
      Promise.resolve(expected !== null && key === expected ? new Date().toISOString() : null),
    removeAsync: (key) => Promise.resolve(key),
  };
}

function spFor(row: SamlConnectionRow, urls: SamlSpUrls, cacheProvider: CacheProvider): SAML {
  return new SAML({
    issuer: urls.spEntityId,
    audience: urls.spEntityId,
    callbackUrl: urls.acsUrl,
    ...(row.idpSsoUrl ? { entryPoint: row.idpSsoUrl } : {}),
    idpCert: row.idpCertificates.map(certificateToPem),
    // Either the response or the assertion must carry a valid signature; node-saml checks the
    // assertion whenever the response is unsigned.
    wantAuthnResponseSigned: false,
    wantAssertionsSigned: false,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    validateInResponseTo: row.allowIdpInitiated
      ? ValidateInResponseTo.ifPresent
      : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_TTL_MS,
    cacheProvider,
    identifierFormat: NAMEID_UNSPECIFIED,
    disableRequestedAuthnContext: true, // the IdP's policy decides how people authenticate
    authnRequestBinding: 'HTTP-Redirect',
  });
}

/** The SP's metadata document for a connection (its entity id, ACS URL, HTTP-POST binding). */
export function samlSpMetadata(publicUrl: string, slug: string, row: SamlConnectionRow): string {
  const urls = samlUrls(publicUrl, slug, row.id);
  return spFor(row, urls, oneRequestCache(null)).generateServiceProviderMetadata(null, null);
}

/** The IdP URL carrying a fresh AuthnRequest (HTTP-Redirect binding) and that request's id. */
export async function startSamlSignIn(
  publicUrl: string,
  slug: string,
  row: SamlConnectionRow,
): Promise<{ url: string; requestId: string }> {
  let requestId: string | null = null;
  const sp = spFor(
    row,
    samlUrls(publicUrl, slug, row.id),
    oneRequestCache(null, (id) => {
      requestId = id;
    }),
  );
  const url = await sp.getAuthorizeUrlAsync('', undefined, {});
  if (requestId === null) throw new Error('node-saml did not record the request id');
  return { url, requestId };
}

type XmlJs = Record<string, unknown>;
const first = (value: unknown): XmlJs | undefined =>
  Array.isArray(value) ? (value[0] as XmlJs | undefined) : undefined;
const attrs = (node: XmlJs | undefined): Record<string, string> =>
  (node?.['$'] as Record<string, string> | undefined) ?? {};
const text = (node: unknown): string | null => {
  if (typeof node === 'string') return node;
  const value = (node as XmlJs | undefined)?.['_'];
  return typeof value === 'string' ? value : null;
};

function values(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => text(v)).filter((v): v is string => v !== null && v.length > 0);
}

function attribute(
  profile: Profile,
  configured: string | null,
  defaults: readonly string[],
): string[] {
  const all = (profile.attributes ?? {}) as Record<string, unknown>;
  for (const name of configured ? [configured] : defaults) {
    if (name in all) return values(all[name]);
  }
  return [];
}

function rootDestination(xml: string): string | null {
  const root = parseXml(xml)?.documentElement;
  return root?.hasAttribute('Destination') ? root.getAttribute('Destination') : null;
}

/** Where a response arrived: the connection, and what its SP URLs derive from (console origin, tenant slug). */
export interface SamlAcs {
  publicUrl: string;
  slug: string;
  row: SamlConnectionRow;
}

/** What arrived: the base64 `SAMLResponse`, and the AuthnRequest id this browser's flow expects (null: none). */
export interface SamlPost {
  samlResponse: string;
  expectedRequestId: string | null;
}

/** Validates an HTTP-POST `SAMLResponse` for one connection; throws SamlRefusal. */
export async function validateSamlResponse(
  db: Database,
  acs: SamlAcs,
  post: SamlPost,
  now: Date,
): Promise<SamlAssertion> {
  const { publicUrl, slug, row } = acs;
  const { samlResponse, expectedRequestId } = post;
  const urls = samlUrls(publicUrl, slug, row.id);
  if (samlResponse.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4)
    throw new SamlRefusal('malformed', 'too large');
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  if (!xml.trimStart().startsWith('<')) throw new SamlRefusal('malformed', 'not XML');
  if (hasDoctype(xml)) throw new SamlRefusal('malformed', 'DTD');
  if (xml.includes('<!--')) throw new SamlRefusal('malformed', 'comment');

  const unsolicited = !/<(?:[\w-]+:)?Response\b[^>]*\sInResponseTo\s*=/.test(xml);
  if (unsolicited && !row.allowIdpInitiated) throw new SamlRefusal('unsolicited');

  let profile: Profile | null;
  try {
    ({ profile } = await spFor(
      row,
      urls,
      oneRequestCache(expectedRequestId),
    ).validatePostResponseAsync({ SAMLResponse: samlResponse }));
  } catch (error) {
    throw new SamlRefusal('invalid', error instanceof Error ? error.message : 'refused');
  }
  if (!profile) throw new SamlRefusal('invalid', 'no assertion');
  if (profile.issuer !== row.idpEntityID) throw new SamlRefusal('wrong_issuer');

  const destination = rootDestination(xml);
  if (destination !== null && destination !== urls.acsUrl)
    throw new SamlRefusal('wrong_destination');

  // The signed assertion as node-saml verified it (xml2js form).
  const assertion = (profile.getAssertion?.() as XmlJs | undefined)?.['Assertion'] as
    XmlJs | undefined;
  const assertionId = attrs(assertion)['ID'] ?? '';
  if (!assertionId || assertionId.length > 256) throw new SamlRefusal('invalid', 'no assertion id');
  const confirmations = (first(assertion?.['Subject'])?.['SubjectConfirmation'] ?? []) as XmlJs[];
  const recipientOk = confirmations.some(
    (c) =>
      attrs(c)['Method'] === BEARER &&
      attrs(first(c['SubjectConfirmationData']))['Recipient'] === urls.acsUrl,
  );
  if (!recipientOk) throw new SamlRefusal('wrong_recipient');
  const conditions = attrs(first(assertion?.['Conditions']));
  const confirmationEnds = confirmations
    .map((c) => attrs(first(c['SubjectConfirmationData']))['NotOnOrAfter'])
    .filter((v): v is string => typeof v === 'string');
  const ends = [conditions['NotOnOrAfter'], ...confirmationEnds]
    .filter((v): v is string => typeof v === 'string')
    .map((v) => Date.parse(v))
    .filter((v) => Number.isFinite(v));
  if (ends.length === 0) throw new SamlRefusal('invalid', 'no NotOnOrAfter');

  const subject = profile.nameID;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255)
    throw new SamlRefusal('no_subject');

  const authn = first(assertion?.['AuthnStatement']);
  const classRef = text(first(first(authn?.['AuthnContext'])?.['AuthnContextClassRef']));
  const authnContexts = [
    ...(classRef ? [classRef] : []),
    ...attribute(profile, AUTHN_METHODS_ATTRIBUTE, []),
  ];
  const emailFromNameId =
    profile.nameIDFormat === 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
      ? subject
      : null;
  const result: SamlAssertion = {
    assertionId,
    subject,
    email: attribute(profile, row.emailAttribute, EMAIL_ATTRIBUTES)[0] ?? emailFromNameId,
    name: attribute(profile, row.nameAttribute, NAME_ATTRIBUTES)[0] ?? null,
    groups: attribute(profile, row.groupsAttribute, GROUPS_ATTRIBUTES).slice(0, 500),
    authnContexts,
  };

  // Replay cache: committed on its own, before the sign-in, so a replay is refused by every
  // process even while the first use is still signing in.
  const expiresAt = new Date(
    Math.min(Math.max(...ends) + SAML_CLOCK_SKEW_MS, now.getTime() + MAX_REPLAY_WINDOW_MS),
  );
  const fresh = await withTenant(db, row.tenantId, async (tx) => {
    await tx.delete(samlAssertionIds).where(lt(samlAssertionIds.expiresAt, now));
    const inserted = await tx
      .insert(samlAssertionIds)
      .values({ tenantId: row.tenantId, connectionId: row.id, assertionId, expiresAt })
      .onConflictDoNothing()
      .returning({ id: samlAssertionIds.assertionId });
    return inserted.length === 1;
  });
  if (!fresh) throw new SamlRefusal('replayed');
  return result;
}

/** Does the assertion's authentication context satisfy MFA under this connection's settings? */
export function samlMfaSatisfied(
  row: Pick<SamlConnectionRow, 'trustIdpMfa' | 'mfaContexts'>,
  assertion: Pick<SamlAssertion, 'authnContexts'>,
): boolean {
  return row.trustIdpMfa && assertion.authnContexts.some((c) => row.mfaContexts.includes(c));
}

/** The role a just-in-time user gets: the first group-to-role rule that matches, else `member`. */
export function samlJitRole(
  row: Pick<SamlConnectionRow, 'groupRoles'>,
  groups: readonly string[],
): 'admin' | 'compliance' | 'member' {
  return row.groupRoles.find((rule) => groups.includes(rule.group))?.role ?? 'member';
}
