/**
 * Verification of legacy bcrypt hashes imported from older systems, so those users can sign
 * in once and be re-hashed with Argon2id. The native `bcrypt` package runs on libuv's
 * threadpool (a pure-JS bcrypt blocks the event loop for ~100 ms at cost 12).
 *
 * bcrypt reads at most 72 bytes of a password and silently ignores the rest, so any password
 * sharing the first 72 bytes would pass. A password over 72 UTF-8 bytes therefore never
 * verifies against a bcrypt hash: that user resets their password instead. Refusing is the
 * only safe choice; accepting when the first 72 bytes match is exactly the truncation attack.
 * Each cost step doubles bcrypt's work, and one compare holds a threadpool slot until it ends: a
 * cost-31 hash would hold it for days. Hashes above `BCRYPT_MAX_COST` are refused at import and
 * never computed at sign-in (verify-password.ts does equal work instead).
 * Pinned by `legacy-bcrypt.test.ts` and `legacy-import.db.test.ts`.
 */
import { compare } from 'bcrypt';

/** bcrypt's key limit in bytes; longer input would be truncated by the algorithm. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/** The highest bcrypt cost accepted: about a second per compare on current hardware. */
export const BCRYPT_MAX_COST = 14;

const BCRYPT_PATTERN = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** True for a well-formed `$2a$`, `$2b$` or `$2y$` hash (cost 04-31). */
export function isBcryptHash(stored: string): boolean {
  return BCRYPT_PATTERN.test(stored);
}

/** The cost (log2 rounds) of a well-formed bcrypt hash; null for anything else. */
export function bcryptCostOf(stored: string): number | null {
  const cost = BCRYPT_PATTERN.exec(stored)?.[1];
  return cost === undefined ? null : Number(cost);
}

/**
 * `$2y$` (PHP's crypt_blowfish) computes the same function as OpenBSD's `$2b$`; the native
 * library only accepts the latter spelling.
 */
function toLibraryForm(stored: string): string {
  return stored.startsWith('$2y$') ? `$2b$${stored.slice(4)}` : stored;
}

/**
 * The spellings tried: NFC first, then NFD when it differs. Both are the same characters to
 * the user; an older system may have stored whatever bytes the client sent (macOS sends NFD).
 */
function candidatesOf(password: string): string[] {
  const nfc = password.normalize('NFC');
  const nfd = password.normalize('NFD');
  return nfd === nfc ? [nfc] : [nfc, nfd];
}

/**
 * Verifies `password` against a legacy bcrypt hash. Every candidate is compared, even one
 * over 72 bytes, so the work done does not depend on the password's length; a candidate over
 * 72 bytes can never match.
 */
export async function verifyBcrypt(stored: string, password: string): Promise<boolean> {
  if (!isBcryptHash(stored)) throw new TypeError('stored password hash is not a bcrypt hash');
  const libraryForm = toLibraryForm(stored);
  let verified = false;
  for (const candidate of candidatesOf(password)) {
    const matched = await compare(candidate, libraryForm);
    const withinLimit = Buffer.byteLength(candidate, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
    verified ||= matched && withinLimit;
  }
  return verified;
}
