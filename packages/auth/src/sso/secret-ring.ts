/**
 * SESSION_SECRET as a ring (`v2:base64,v1:base64`, docs/design.md "Secrets"): the Auth.js `secret` (its
 * state, PKCE and nonce cookies are JWEs under keys derived from it; Auth.js encrypts with the
 * first and decrypts with all) and the MAC key of Tessera's own SSO flow cookie.
 *
 * The flow cookie binds a sign-in flow to (tenant, provider) from start to callback, so a
 * callback for another tenant's provider, or a platform provider's callback without a flow
 * started at a tenant, is refused before any token exchange. Format: `<version>.<payload>.<mac>`
 * with HMAC-SHA-256 under HKDF(key, "tessera.sso.flow.v1"); compared in constant time; expires.
 * Pinned by secret-ring.test.ts.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { parseKeyring } from '../crypto/keyring.js';

export interface SsoFlow {
  tenantId: string;
  provider: string;
  expiresAt: Date;
}

export interface SessionSecretRing {
  /** For `AuthConfig.secret`: first entry encrypts, all decrypt. */
  readonly authSecrets: readonly string[];
  signFlow(flow: SsoFlow): string;
  /** Null when malformed, forged, under an unknown version, or expired. */
  verifyFlow(token: string, now: Date): SsoFlow | null;
}

const FLOW_INFO = 'tessera.sso.flow.v1';

export function parseSessionSecretRing(spec: string): SessionSecretRing {
  const { versions } = parseKeyring(spec); // same validation and safe messages as the data keyring
  const raw = new Map(
    spec.split(',').map((entry) => {
      const at = entry.indexOf(':');
      return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()] as const;
    }),
  );
  const macKeys = new Map(
    versions.map((v) => [
      v,
      Buffer.from(
        hkdfSync('sha256', Buffer.from(raw.get(v) ?? '', 'base64'), Buffer.alloc(0), FLOW_INFO, 32),
      ),
    ]),
  );
  const current = versions[0];
  if (!current) throw new TypeError('SESSION_SECRET is empty');
  const mac = (version: string, body: string): Buffer | null => {
    const key = macKeys.get(version);
    return key ? createHmac('sha256', key).update(`${version}.${body}`).digest() : null;
  };
  return {
    authSecrets: versions.map((v) => raw.get(v) ?? ''),
    signFlow(flow) {
      const body = Buffer.from(
        JSON.stringify({
          t: flow.tenantId,
          p: flow.provider,
          x: Math.floor(flow.expiresAt.getTime() / 1000),
        }),
      ).toString('base64url');
      return `${current}.${body}.${(mac(current, body) as Buffer).toString('base64url')}`;
    },
    verifyFlow(token, now) {
      const [version, body, tag, extra] = token.split('.');
      if (!version || !body || !tag || extra !== undefined) return null;
      const expected = mac(version, body);
      const given = Buffer.from(tag, 'base64url');
      if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected))
        return null;
      try {
        const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
          t?: unknown;
          p?: unknown;
          x?: unknown;
        };
        if (
          typeof parsed.t !== 'string' ||
          typeof parsed.p !== 'string' ||
          typeof parsed.x !== 'number'
        )
          return null;
        if (parsed.x * 1000 <= now.getTime()) return null;
        return { tenantId: parsed.t, provider: parsed.p, expiresAt: new Date(parsed.x * 1000) };
      } catch {
        return null;
      }
    },
  };
}
