/** One mapping from a passkey refusal to the error the client sees (no oracle between reasons). */
import { AuthError } from '../errors.js';
import { mfaCodeRefused } from '../outcomes.js';
import type { PasskeyRefusal } from './assertion.js';

export function refusalError(
  reason: PasskeyRefusal,
  mode: 'second_factor' | 'passwordless' | 'step_up',
): AuthError {
  if (reason === 'challenge_invalid' || reason === 'challenge_expired')
    return new AuthError('token_invalid', { detail: 'The passkey request expired. Try again.' });
  if (reason === 'too_many_attempts')
    return new AuthError('rate_limited', { detail: 'Too many attempts. Sign in again.' });
  if (reason === 'passwordless_disabled')
    return new AuthError('forbidden', {
      detail: 'Passkey sign-in without a password is not turned on for this organisation.',
    });
  if (reason === 'user_verification_missing')
    return new AuthError('forbidden', {
      detail:
        'Signing in with a passkey alone needs user verification (your device PIN or biometrics).',
    });
  const detail = 'The passkey could not be verified.';
  return mode === 'passwordless'
    ? new AuthError('invalid_credentials', { detail })
    : mfaCodeRefused('mfa_code_invalid', { detail });
}
