/**
 * Reading an identity provider's SAML metadata (OASIS SAML 2.0 Metadata): its entity id, the
 * single sign-on URL of the HTTP-Redirect binding (where Tessera sends its AuthnRequest) and its
 * signing certificates. Documents with a DTD are refused before parsing (no entity expansion, no
 * external entities), and so are documents over 256 KiB. A metadata URL is fetched through the
 * guarded fetch (docs/design.md "Outbound URLs"). Pinned by
 * packages/api/src/plugins/saml-admin.security.test.ts (URL, XML, DOCTYPE) and the SAML browser test.
 */
import { X509Certificate } from 'node:crypto';
import { AuthError } from '../errors.js';
import type { FetchLike } from '../outbound/guarded-fetch.js';
import { parseXml, selectElements } from './saml-xml.js';

export const SAML_METADATA_MAX_BYTES = 256 * 1024;
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  /** Base64 DER, at most two (the current one and the next one during a rotation). */
  certificates: string[];
}

function invalid(detail: string, field = 'metadataXml'): AuthError {
  return new AuthError('invalid_input', { detail, field });
}

/** DTDs are never needed in SAML and are how XXE and entity expansion get in: refuse them. */
export function hasDoctype(xml: string): boolean {
  return /<!DOCTYPE|<!ENTITY/i.test(xml);
}

/** Parses a PEM block or bare base64 DER into base64 DER, or throws for anything not an X.509 certificate. */
export function normalizeCertificate(input: string, field = 'certificates'): string {
  const body = input
    .replace(/-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----/g, '')
    .replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length > 16_384)
    throw invalid('The certificate is not a PEM or base64 X.509 certificate.', field);
  try {
    new X509Certificate(Buffer.from(body, 'base64'));
  } catch {
    throw invalid('The certificate is not a PEM or base64 X.509 certificate.', field);
  }
  return body;
}

export function certificateToPem(der: string): string {
  const lines = der.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Subject, expiry and SHA-256 fingerprint, for the console. */
export function describeCertificate(der: string): {
  subject: string;
  notAfter: string;
  fingerprint: string;
} {
  const cert = new X509Certificate(Buffer.from(der, 'base64'));
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    notAfter: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256,
  };
}

export function parseIdpMetadata(xml: string): IdpMetadata {
  if (Buffer.byteLength(xml, 'utf8') > SAML_METADATA_MAX_BYTES)
    throw invalid('The metadata document is too large.');
  if (hasDoctype(xml)) throw invalid('Metadata with a DOCTYPE is refused.');
  const doc = parseXml(xml);
  if (!doc) throw invalid('The metadata is not well-formed XML.');
  const descriptor = selectElements(
    "//*[local-name()='EntityDescriptor'][*[local-name()='IDPSSODescriptor']]",
    doc,
  )[0];
  if (!descriptor) throw invalid('No identity provider (IDPSSODescriptor) in the metadata.');
  const entityId = descriptor.getAttribute('entityID')?.trim() ?? '';
  if (!entityId || entityId.length > 1024) throw invalid('The metadata has no entityID.');
  const idp = selectElements("./*[local-name()='IDPSSODescriptor']", descriptor)[0];
  const sso = selectElements("./*[local-name()='SingleSignOnService']", idp);
  const redirect = sso.find((s) => s.getAttribute('Binding') === REDIRECT_BINDING);
  const ssoUrl = redirect?.getAttribute('Location')?.trim() ?? '';
  if (!/^https?:\/\/[^\s#]+$/.test(ssoUrl) || ssoUrl.length > 1024)
    throw invalid('The metadata has no SingleSignOnService for the HTTP-Redirect binding.');
  const keys = selectElements("./*[local-name()='KeyDescriptor']", idp).filter((k) => {
    const use = k.getAttribute('use');
    return !use || use === 'signing';
  });
  const certificates = [
    ...new Set(
      keys.flatMap((k) =>
        selectElements(".//*[local-name()='X509Certificate']", k).map((n) =>
          normalizeCertificate(n.textContent ?? '', 'metadataXml'),
        ),
      ),
    ),
  ];
  if (certificates.length === 0) throw invalid('The metadata has no signing certificate.');
  if (certificates.length > 2)
    throw invalid('The metadata lists more than two signing certificates.');
  return { entityId, ssoUrl, certificates };
}

/** Fetches metadata from a URL already checked against the outbound rule; no redirects. */
export async function fetchIdpMetadata(fetch: FetchLike, url: string): Promise<IdpMetadata> {
  let text: string;
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > SAML_METADATA_MAX_BYTES) throw new Error('too large');
    text = await response.text();
  } catch (error) {
    throw new AuthError('invalid_input', {
      detail: 'The metadata URL could not be read.',
      field: 'metadataUrl',
      cause: error,
    });
  }
  return parseIdpMetadata(text);
}
