/** The user-facing reasons a password is refused: safe to show, human, and actionable. */
import { MAX_PASSWORD_CODE_POINTS } from './password-text.js';
import type { StrengthEstimate } from './strength-estimator.js';

export type PasswordRefusal =
  'too_short' | 'too_long' | 'too_weak' | 'common' | 'contains_context' | 'breached';

const FIXED: Record<Exclude<PasswordRefusal, 'too_short' | 'too_weak'>, string> = {
  too_long: `Use at most ${MAX_PASSWORD_CODE_POINTS} characters.`,
  common: 'This is one of the most commonly used passwords. Choose one that is unique to you.',
  contains_context: "Don't use your e-mail address or your organisation's name in your password.",
  breached:
    'This password has appeared in a known data breach, so attackers will try it. Choose a different one.',
};

/** Feedback for `reason`, most important first; zxcvbn's hints follow for weak passwords. */
export function feedbackFor(
  reason: PasswordRefusal,
  minLength: number,
  estimate: StrengthEstimate | null,
): string[] {
  switch (reason) {
    case 'too_short':
      return [
        `Use at least ${minLength} characters. A few unrelated words make a long password easy to remember.`,
      ];
    case 'too_weak':
      return [
        'This password is too easy to guess.',
        ...(estimate?.warning ? [estimate.warning] : []),
        ...(estimate?.suggestions ?? []),
      ];
    default:
      return [FIXED[reason]];
  }
}
