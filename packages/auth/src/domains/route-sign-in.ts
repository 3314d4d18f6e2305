/**
 * Home-realm discovery: which tenant's SSO an e-mail address signs in with, before any tenant is
 * known (docs/design.md rule 3: through the `route_email_domain` SECURITY DEFINER function). Only a
 * held domain (verified, not suspended) of a tenant with an enabled SSO connection answers; a
 * pending, suspended or unknown domain and a malformed address all answer null, the same way.
 *
 * The connection: the tenant's own OIDC connection while it is enabled, else its first enabled
 * SAML connection (oldest first), the same order as the sign-in buttons (sign-in-options.ts).
 */
import { routeEmailDomain, type Database } from '@tessera/db';
import { samlUrls } from '../sso/saml-connections.js';
import { ssoUrls } from '../sso/settings.js';
import { emailDomainOf } from '../shared/domain-name.js';

export interface SignInRoute {
  tenantSlug: string;
  /** The protocol of the connection `startUrl` begins a sign-in with. */
  protocol: 'oidc' | 'saml';
  /** Where the browser goes: the connection's SSO start route (docs/sso.md). */
  startUrl: string;
}

export async function routeSignIn(
  db: Database,
  publicUrl: string,
  email: string,
): Promise<SignInRoute | null> {
  const domain = emailDomainOf(email.trim().toLowerCase());
  if (!domain) return null;
  const route = await routeEmailDomain(db.pool, domain);
  if (!route) return null;
  if (route.samlConnectionId)
    return {
      tenantSlug: route.slug,
      protocol: 'saml',
      startUrl: samlUrls(publicUrl, route.slug, route.samlConnectionId).startUrl,
    };
  return {
    tenantSlug: route.slug,
    protocol: 'oidc',
    startUrl: ssoUrls(publicUrl, route.slug).startUrl,
  };
}
