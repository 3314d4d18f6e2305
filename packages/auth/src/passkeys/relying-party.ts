/**
 * The WebAuthn relying party is the console's own origin (PUBLIC_URL): rpID is its host name and
 * the expected origin is exactly its origin, so an assertion made for any other site (a phishing
 * look-alike, a sibling subdomain) fails verification (WebAuthn §7.1 steps 9 and 15).
 */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export const RELYING_PARTY_NAME = 'Tessera';

export function relyingPartyFor(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: RELYING_PARTY_NAME, origin: url.origin };
}
