/**
 * API key format (docs/design.md "Public contract"): `{pk|sk}_{live|test}_` + 32 random bytes in base62
 * (43 characters) + a CRC-32 of everything before it in base62 (6 characters). The checksum lets
 * typos and junk fail without a database round trip and lets secret scanners recognise keys; it
 * proves nothing (anyone can compute it): authenticity comes from the hash lookup alone.
 * Pinned by key-format.test.ts and the "no round trip" test in verify-api-key.security.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { ApiKeyEnvironment, ApiKeyType } from '@tessera/db';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_BYTES = 32;
const BODY_CHARS = 43; // ceil(256 / log2(62))
const CHECKSUM_CHARS = 6; // 62^6 > 2^32
const KEY_PATTERN = /^(pk|sk)_(live|test)_[A-Za-z0-9]{49}$/;
/** `sk_live_` + 4 characters of the random body: enough to tell keys apart, ~232 bits stay secret. */
export const DISPLAY_PREFIX_CHARS = 12;
export const API_KEY_LENGTH = 8 + BODY_CHARS + CHECKSUM_CHARS;

export interface ParsedApiKey {
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  raw: string;
}

/** Parses `sk_live_...`. Returns null for anything malformed, before any database round trip. */
export function parseApiKey(raw: unknown): ParsedApiKey | null {
  if (typeof raw !== 'string' || raw.length !== API_KEY_LENGTH || !KEY_PATTERN.test(raw))
    return null;
  // The checksum only filters typos and junk cheaply; authenticity comes from the hash lookup.
  if (checksumOf(raw.slice(0, -CHECKSUM_CHARS)) !== raw.slice(-CHECKSUM_CHARS)) return null;
  const type = raw.startsWith('pk_') ? 'publishable' : 'secret';
  return { type, environment: raw.slice(3, 7) === 'live' ? 'live' : 'test', raw };
}

/** A fresh key from the CSPRNG; the caller shows it once and stores only its hash and prefix. */
export function generateApiKey(
  type: ApiKeyType,
  environment: ApiKeyEnvironment,
): { key: string; prefix: string } {
  if (type !== 'publishable' && type !== 'secret')
    throw new TypeError('type must be publishable or secret');
  if (environment !== 'live' && environment !== 'test')
    throw new TypeError('environment must be live or test');
  const head = `${type === 'secret' ? 'sk' : 'pk'}_${environment}_${base62(randomBytes(RANDOM_BYTES), BODY_CHARS)}`;
  const key = head + checksumOf(head);
  return { key, prefix: displayPrefixOf(key) };
}

export function displayPrefixOf(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_CHARS);
}

/** CRC-32 (zlib, IEEE) of the text before the checksum, in base62. */
export function checksumOf(head: string): string {
  // Number arithmetic (a CRC fits 32 bits): this runs on every presented key, BigInt is slower.
  let n = crc32(head) >>> 0;
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i += 1) {
    out = ALPHABET.charAt(n % 62) + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function base62(value: Uint8Array, width: number): string {
  let n = BigInt(`0x${Buffer.from(value).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET.charAt(Number(n % 62n)) + out;
    n /= 62n;
  }
  if (out.length > width) throw new RangeError('value does not fit the width');
  return out.padStart(width, '0');
}
