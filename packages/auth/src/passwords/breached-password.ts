/**
 * Optional breached-password check against Have I Been Pwned's range API with k-anonymity:
 * only the first 5 hex characters of the password's SHA-1 leave the server, and the answer
 * is padded (`Add-Padding: true`) so its size does not reveal the prefix's bucket either.
 * The check fails OPEN: a timeout or outage must not stop people from setting passwords, so
 * the failure goes to `onError` for the caller to log, and the password counts as unbreached.
 * Pinned by `breached-password.test.ts` against a local server speaking the range format.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { normalizePassword } from './password-text.js';

/** Resolves true when the password is known from a breach; never rejects. */
export type BreachCheck = (password: string) => Promise<boolean>;

export type BreachCheckFailureReason = 'timeout' | 'network' | 'bad_status' | 'bad_response';

export interface BreachCheckFailure {
  reason: BreachCheckFailureReason;
  /** HTTP status for `bad_status`. */
  status?: number;
  /** The underlying error, if any; it never contains the password or its hash. */
  cause?: unknown;
}

export interface BreachedPasswordCheckerOptions {
  baseUrl?: string;
  /** Whole request, body included (default 1,500 ms). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  onError?: (failure: BreachCheckFailure) => void;
}

const DEFAULT_BASE_URL = 'https://api.pwnedpasswords.com';
const DEFAULT_TIMEOUT_MS = 1500;
const PREFIX_LENGTH = 5;
const RANGE_LINE = /^([0-9A-F]{35}):(\d+)$/;

class BreachCheckError extends Error {
  constructor(readonly failure: BreachCheckFailure) {
    super(failure.reason);
  }
}

function sha1Hex(password: string): string {
  // eslint-disable-next-line tessera/no-weak-hash -- HIBP's range API is keyed by SHA-1; only a 5-char prefix is sent and nothing is stored
  return createHash('sha1').update(normalizePassword(password), 'utf8').digest('hex').toUpperCase();
}

/** True when a line of the range answer carries `suffix` with a count above 0 (0 is padding). */
export function rangeContains(body: string, suffix: string): boolean {
  const wanted = Buffer.from(suffix, 'latin1');
  let found = false;
  for (const line of body.split('\n')) {
    const match = RANGE_LINE.exec(line.trim().toUpperCase());
    if (!match || Number(match[2]) === 0) continue;
    const candidate = Buffer.from(match[1] ?? '', 'latin1');
    found = (candidate.length === wanted.length && timingSafeEqual(candidate, wanted)) || found;
  }
  return found;
}

function failureOf(error: unknown): BreachCheckFailure {
  if (error instanceof BreachCheckError) return error.failure;
  const name = error instanceof Error ? error.name : '';
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  return { reason: timedOut ? 'timeout' : 'network', cause: error };
}

async function fetchRange(doFetch: typeof fetch, url: string, timeoutMs: number): Promise<string> {
  const response = await doFetch(url, {
    headers: { 'Add-Padding': 'true', Accept: 'text/plain' },
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new BreachCheckError({ reason: 'bad_status', status: response.status });
  }
  const body = await response.text();
  if (!body.split('\n').some((line) => RANGE_LINE.test(line.trim().toUpperCase()))) {
    throw new BreachCheckError({ reason: 'bad_response' });
  }
  return body;
}

function report(
  onError: BreachedPasswordCheckerOptions['onError'],
  failure: BreachCheckFailure,
): void {
  try {
    onError?.(failure);
  } catch {
    // a failing logger must not turn a fail-open check into a failed request
  }
}

export function createBreachedPasswordChecker(
  options: BreachedPasswordCheckerOptions = {},
): BreachCheck {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new TypeError('timeoutMs must be a positive integer');
  }
  const doFetch = options.fetch ?? fetch;
  return async (password) => {
    const digest = sha1Hex(password);
    const prefix = digest.slice(0, PREFIX_LENGTH);
    try {
      const body = await fetchRange(doFetch, `${baseUrl}/range/${prefix}`, timeoutMs);
      return rangeContains(body, digest.slice(PREFIX_LENGTH));
    } catch (error) {
      report(options.onError, failureOf(error));
      return false; // fail open, reported above
    }
  };
}
