/**
 * Random tokens and SHA-256 helpers for secrets stored only as hashes (docs/design.md rule 4).
 * Compare stored hashes with `timingSafeEqualHex`, never `===` (docs/contributing.md "Lint rules").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BinaryLike, KeyObject } from 'node:crypto';

const MIN_TOKEN_BYTES = 16; // 128 bits: below this a token is guessable offline from its hash
const MAX_TOKEN_BYTES = 1024;
const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})+$/;

/** A URL-safe random token: base64url of `bytes` bytes from the CSPRNG (default 32, min 16). */
export function randomToken(bytes = 32): string {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_TOKEN_BYTES || bytes > MAX_TOKEN_BYTES) {
    throw new TypeError(
      `token size must be an integer from ${MIN_TOKEN_BYTES} to ${MAX_TOKEN_BYTES} bytes`,
    );
  }
  return randomBytes(bytes).toString('base64url');
}

const DEFAULT_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Shape check for a default `randomToken()` (32 bytes, base64url), before any database round trip. */
export function isWellFormedToken(token: string): boolean {
  return DEFAULT_TOKEN.test(token);
}

/** SHA-256 digest; strings are hashed as UTF-8. */
export function sha256(input: string | Uint8Array): Buffer {
  return createHash('sha256').update(input).digest();
}

/** SHA-256 digest as lower-case hex, the form stored for session, reset and invite tokens. */
export function sha256Hex(input: string | Uint8Array): string {
  return sha256(input).toString('hex');
}

/**
 * Constant-time comparison of two hex strings (case-insensitive). Returns false, without
 * throwing, on length mismatch, empty input or anything that is not whole-byte hex.
 */
export function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length || !HEX_PATTERN.test(a) || !HEX_PATTERN.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** HMAC-SHA-256 of `data` under `key`; strings are UTF-8. */
export function hmacSha256(key: BinaryLike | KeyObject, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
