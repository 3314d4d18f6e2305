import { AuthError } from '../errors.js';

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
    e = e.cause;
  }
  return false;
}

/**
 * Awaits a write whose unique indexes decide a SCIM uniqueness rule (userName, externalId, e-mail,
 * group name): a violation becomes AuthError('conflict'), which SCIM answers 409 `uniqueness`.
 * The transaction is aborted either way; the error rolls it back.
 */
export async function uniqueOr<T>(write: PromiseLike<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AuthError('conflict', { cause: error, detail: 'This value is already taken.' });
    throw error;
  }
}
