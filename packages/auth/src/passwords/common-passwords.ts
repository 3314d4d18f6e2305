/**
 * The bundled list of common passwords (NIST SP 800-63B rev 4 §3.1.1.2: refuse values known
 * to be commonly used): the ~49,000 entries of zxcvbn-ts language-common's `passwords`
 * dictionary, checked exactly and case-insensitively. zxcvbn also scores near-misses
 * (l33t, suffixes) low; this is the exact, always-on check that needs no scoring.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

let commonPasswords: ReadonlySet<string> | null = null;

function commonSet(): ReadonlySet<string> {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return commonPasswords;
}

/** True when `password` (NFC) is on the bundled list, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return commonSet().has(password.toLowerCase());
}
