/**
 * Turns a caller's before/after/metadata into what the audit log stores: plain JSON that jsonb
 * round-trips exactly, secrets replaced by "[redacted]" (docs/design.md rule 4), and personal data
 * (e-mail addresses anywhere, and the values of name/e-mail/phone keys) replaced by a salted
 * pseudonym token so GDPR erasure can drop the clear value without breaking the chain.
 */
import type { JsonValue } from './canonical.js';

export const REDACTED = '[redacted]';
const MAX_DEPTH = 16;

/** A key is secret when its last word is one of these (`newPassword`, `token_hash`, `apiKey`). */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passcode',
  'passphrase',
  'pwd',
  'pin',
  'token',
  'tokens',
  'secret',
  'secrets',
  'code',
  'codes',
  'hash',
  'hashes',
  'key',
  'keys',
  'salt',
  'pepper',
  'otp',
  'totp',
  'cookie',
  'cookies',
  'authorization',
  'credential',
  'credentials',
  'verifier',
]);
/** Personal data by key: the last word, or the whole key (case- and separator-insensitive). */
const PERSONAL_WORDS = new Set(['email', 'emails', 'phone', 'mobile']);
const PERSONAL_KEYS = new Set([
  'displayname',
  'fullname',
  'firstname',
  'lastname',
  'givenname',
  'familyname',
  'phonenumber',
  'username',
]);
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;
/** A whole secret API key (a short prefix is an identifier, not a secret) or a bearer credential. */
const SECRET_VALUE = /^(?:sk_(?:live|test)_[A-Za-z0-9]{40,}|bearer\s.+)$/is;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function isSecretKey(key: string): boolean {
  const last = wordsOf(key).at(-1);
  return last !== undefined && SECRET_WORDS.has(last);
}

export function isPersonalKey(key: string): boolean {
  const words = wordsOf(key);
  const last = words.at(-1);
  return (last !== undefined && PERSONAL_WORDS.has(last)) || PERSONAL_KEYS.has(words.join(''));
}

export function looksLikeEmail(value: string): boolean {
  return value.length <= 320 && EMAIL.test(value);
}

/** Postgres text and jsonb refuse NUL and lone surrogates; replace both with U+FFFD. */
export function cleanString(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD').replaceAll('\u0000', '\uFFFD');
}

/** JSON semantics (Dates to ISO strings, undefined dropped, non-finite numbers to null). */
export function toJsonValue(value: unknown, depth = 0): JsonValue {
  if (depth > MAX_DEPTH) throw new TypeError('audit payload is nested too deeply');
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // + 0 turns -0 into 0
    case 'bigint':
      return value.toString();
    case 'string':
      return cleanString(value);
    case 'object':
      break;
    default:
      return null; // functions and symbols, as JSON.stringify would drop them
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => toJsonValue(item, depth + 1));
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toJsonValue(withToJson.toJSON(), depth + 1);
  const entries = Object.entries(value).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  );
  // fromEntries defines own properties, so a "__proto__" key stays data instead of a prototype.
  return Object.fromEntries(entries.map(([k, v]) => [cleanString(k), toJsonValue(v, depth + 1)]));
}

/**
 * Redacts secrets and masks personal data in a JSON value. `mask` returns the pseudonym token
 * for a clear value (and remembers the pair for the row's `pii` column).
 */
export function protectJson(
  value: JsonValue,
  mask: (clear: string) => string,
  personal = false,
): JsonValue {
  if (typeof value === 'string') {
    if (SECRET_VALUE.test(value)) return REDACTED;
    return personal || looksLikeEmail(value) ? mask(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => protectJson(item, mask, personal));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      isSecretKey(key) ? REDACTED : protectJson(item, mask, personal || isPersonalKey(key)),
    ]),
  );
}

/** toJsonValue + protectJson for one optional payload field. */
export function preparePayload(
  value: Record<string, unknown> | null | undefined,
  mask: (clear: string) => string,
): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TypeError('audit before/after/metadata must be objects');
  return protectJson(toJsonValue(value), mask);
}
