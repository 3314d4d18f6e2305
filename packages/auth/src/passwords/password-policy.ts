/**
 * The password policy (NIST SP 800-63B rev 4 §3.1.1.2), shared by sign-up, password change,
 * reset, invites and `auth.passwordStrength`: lengths in code points after NFC (max 256,
 * never truncated, overlong input refused before scoring), no composition rules, refused when
 * zxcvbn scores it below 3, when it is a common password, when it contains the e-mail's local
 * part or the tenant's name or slug, and (optionally) when it is known from a breach.
 * Pinned by `password-policy.test.ts`.
 */
import { AuthError } from '../errors.js';
import type { BreachCheck } from './breached-password.js';
import { isCommonPassword } from './common-passwords.js';
import { containsContextTerm, contextTerms } from './context-terms.js';
import type { PasswordContext } from './context-terms.js';
import { MULTI_FACTOR_MIN_LENGTH, SINGLE_FACTOR_MIN_LENGTH } from './minimum-length.js';
import { feedbackFor } from './policy-feedback.js';
import type { PasswordRefusal } from './policy-feedback.js';
import {
  codePointLength,
  firstCodePoints,
  isOverlongPassword,
  normalizePassword,
} from './password-text.js';
import type { StrengthEstimate, StrengthEstimator, StrengthScore } from './strength-estimator.js';
import { defaultStrengthEstimator } from './worker-strength-estimator.js';

/** The estimator reads at most this many code points (docs/design.md "Identity": "the estimator reads the first 100"). */
export const ESTIMATOR_MAX_CODE_POINTS = 100;
const MIN_ACCEPTABLE_SCORE = 3;

export interface PasswordCheckOptions extends PasswordContext {
  /** From `minimumLengthFor(policy)`; below 8 is raised to 8, a non-integer means 15. */
  minLength: number;
  breachCheck?: BreachCheck | undefined;
  /** Defaults to zxcvbn in a worker thread; tests inject a spy. */
  estimator?: StrengthEstimator | undefined;
}

export interface PasswordCheckResult {
  score: StrengthScore;
  acceptable: boolean;
  feedback: string[];
  reason?: PasswordRefusal;
}

function refusal(
  reason: PasswordRefusal,
  score: StrengthScore,
  feedback: string[],
): PasswordCheckResult {
  return { score, acceptable: false, feedback, reason };
}

/** Never below 8; a value that is not a whole number falls back to the single-factor 15. */
function effectiveMinLength(requested: number): number {
  if (!Number.isSafeInteger(requested)) return SINGLE_FACTOR_MIN_LENGTH;
  return Math.max(requested, MULTI_FACTOR_MIN_LENGTH);
}

function ruleRefusal(
  password: string,
  minLength: number,
  terms: readonly string[],
  estimate: StrengthEstimate,
): PasswordRefusal | null {
  if (codePointLength(password) < minLength) return 'too_short';
  if (isCommonPassword(password)) return 'common';
  if (containsContextTerm(password, terms)) return 'contains_context';
  if (estimate.score < MIN_ACCEPTABLE_SCORE) return 'too_weak';
  return null;
}

/** Scores `password` and says whether the policy accepts it, and if not, why. */
export async function checkPassword(
  password: string,
  options: PasswordCheckOptions,
): Promise<PasswordCheckResult> {
  const minLength = effectiveMinLength(options.minLength);
  if (isOverlongPassword(password)) {
    return refusal('too_long', 0, feedbackFor('too_long', minLength, null));
  }
  const normalized = normalizePassword(password);
  const terms = contextTerms(options);
  const estimate = await (options.estimator ?? defaultStrengthEstimator())(
    firstCodePoints(normalized, ESTIMATOR_MAX_CODE_POINTS),
    terms,
  );
  let reason = ruleRefusal(normalized, minLength, terms, estimate);
  if (reason === null && options.breachCheck && (await options.breachCheck(normalized))) {
    reason = 'breached';
  }
  if (reason === null) {
    return { score: estimate.score, acceptable: true, feedback: estimate.suggestions };
  }
  // A listed or breached password is the first thing an attacker tries, whatever zxcvbn thinks.
  const score = reason === 'common' || reason === 'breached' ? 0 : estimate.score;
  return refusal(reason, score, feedbackFor(reason, minLength, estimate));
}

/** Throws AuthError('weak_password') with the first reason as `detail` when refused. */
export async function assertPasswordAcceptable(
  password: string,
  options: PasswordCheckOptions,
): Promise<PasswordCheckResult> {
  const result = await checkPassword(password, options);
  if (!result.acceptable) {
    throw new AuthError('weak_password', {
      detail: result.feedback[0] ?? 'Choose a different password.',
      field: 'password',
    });
  }
  return result;
}
