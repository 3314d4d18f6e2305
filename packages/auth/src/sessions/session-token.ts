import { isWellFormedToken, randomToken, sha256 } from '../crypto/tokens.js';

/** 32 random bytes, base64url: the cookie value. Only its SHA-256 is stored (docs/design.md rule 4). */
export function newSessionToken(): { token: string; hash: Buffer } {
  const token = randomToken();
  return { token, hash: sha256(token) };
}

export const hashSessionToken = sha256;

/** Cheap shape check before any database round trip. */
export const isWellFormedSessionToken = isWellFormedToken;
