/**
 * Domain names as Tessera stores and compares them: IDNA A-labels (`domainToASCII`, WHATWG URL),
 * lower-case, no trailing dot, at least one label below a public suffix. A public suffix itself
 * (`com`, `co.uk`, `github.io`) is refused, from the Public Suffix List through `tldts` with its
 * private section on, so no tenant can claim every address under a registry or a hosting
 * platform.
 */
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The stored form of a domain a user typed, or null when it is not a claimable domain name. */
export function normalizeDomain(raw: string): string | null {
  const trimmed = raw.trim().replace(/\.$/, '');
  if (trimmed.length === 0 || trimmed.length > 253 || /[\s/@:]/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed.normalize('NFC').toLowerCase());
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return null;
  const parsed = parse(ascii, { allowPrivateDomains: true });
  if (parsed.isIp || parsed.domain === null || !parsed.publicSuffix) return null;
  return ascii;
}

/** The stored form of an e-mail address's domain, or null. */
export function emailDomainOf(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 1) return null;
  return normalizeDomain(email.slice(at + 1));
}

/** Where the tenant publishes its TXT record. */
export const VERIFICATION_PREFIX = '_tessera-verification';
/** The TXT record's value starts with this. */
export const VERIFICATION_VALUE_PREFIX = 'tessera-domain-verification=';

export function verificationRecord(
  domain: string,
  token: string,
): { type: 'TXT'; name: string; value: string } {
  return {
    type: 'TXT',
    name: `${VERIFICATION_PREFIX}.${domain}`,
    value: `${VERIFICATION_VALUE_PREFIX}${token}`,
  };
}
