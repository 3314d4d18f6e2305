import { randomBytes, createHash } from 'node:crypto';

/** 32 random bytes, base64url: the cookie value. Only its SHA-256 is stored (DESIGN rule 4). */
export function newSessionToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashSessionToken(token) };
}

export function hashSessionToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Cheap shape check before any database round trip. */
export function isWellFormedSessionToken(token: string): boolean {
  return TOKEN.test(token);
}
