/**
 * Password text rules shared by hashing, verification and the policy (NIST SP 800-63B rev 4
 * §3.1.1.2): Unicode NFC before anything else, lengths in code points, at most 256, never
 * truncated. Pinned by `hash-password.test.ts` and `password-policy.test.ts`.
 */

/** The longest password accepted, in Unicode code points after NFC. */
export const MAX_PASSWORD_CODE_POINTS = 256;

/**
 * Cheap pre-check before normalising: 256 code points take at most 512 UTF-16 units, and NFC
 * can grow a string only a little, so anything past 1,024 units is refused unread.
 */
export const MAX_PASSWORD_UTF16_UNITS = 1024;

/** The NFC form that is hashed, verified and scored, so every keyboard's bytes agree. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Length in code points (an emoji outside the BMP counts once, not as two UTF-16 units). */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** The first `limit` code points, never splitting a surrogate pair. */
export function firstCodePoints(text: string, limit: number): string {
  let end = 0;
  let count = 0;
  for (const char of text) {
    if (count === limit) break;
    end += char.length;
    count += 1;
  }
  return text.slice(0, end);
}

/** True when `raw` is over the limit; the pre-check runs before the string is normalised. */
export function isOverlongPassword(raw: string): boolean {
  if (raw.length > MAX_PASSWORD_UTF16_UNITS) return true;
  return codePointLength(normalizePassword(raw)) > MAX_PASSWORD_CODE_POINTS;
}
