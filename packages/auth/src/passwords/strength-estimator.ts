/** The strength estimate the password policy consumes, and the shape of an estimator. */

export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface StrengthEstimate {
  score: StrengthScore;
  /** zxcvbn's English warning, e.g. "This is a heavily used password.", or null. */
  warning: string | null;
  suggestions: string[];
}

/**
 * Scores a password (already NFC and cut to the characters the estimator reads) against the
 * dictionaries plus `userInputs` (context words such as the e-mail's local part).
 */
export type StrengthEstimator = (
  password: string,
  userInputs: readonly string[],
) => Promise<StrengthEstimate>;

function isScore(value: unknown): value is StrengthScore {
  return value === 0 || value === 1 || value === 2 || value === 3 || value === 4;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Checks a message from the estimator's worker; anything else is a bug, never a score. */
export function toStrengthEstimate(message: unknown): StrengthEstimate {
  if (typeof message === 'object' && message !== null) {
    const { score, warning, suggestions } = message as Record<string, unknown>;
    const warningOk = warning === null || typeof warning === 'string';
    if (isScore(score) && warningOk && isStringArray(suggestions)) {
      return { score, warning, suggestions };
    }
  }
  throw new TypeError('malformed strength estimate from the estimator worker');
}
