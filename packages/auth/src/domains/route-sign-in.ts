/**
 * Home-realm discovery: which tenant's SSO an e-mail address signs in with, before any tenant is
 * known (docs/design.md rule 3: through the `route_email_domain` SECURITY DEFINER function). Only a
 * held domain (verified, not suspended) of a tenant whose own SSO connection is enabled answers;
 * a pending, suspended or unknown domain and a malformed address all answer null, the same way.
 */
import { routeEmailDomain, type Database } from '@tessera/db';
import { emailDomainOf } from './domain-name.js';

export interface SignInRoute {
  tenantSlug: string;
  /** The tenant's SSO start route (docs/sso.md). */
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
  return { tenantSlug: route.slug, startUrl: `${publicUrl}/auth/sso/${route.slug}/start` };
}
