/**
 * Minimum password length from the tenant's policy (NIST SP 800-63B rev 4 §3.1.1.2): 15 where
 * the password may be the only factor; a tenant that requires MFA for everyone may lower it,
 * never below 8.
 */
import { AuthError } from '../errors.js';
import { MAX_PASSWORD_CODE_POINTS } from './password-text.js';

export const SINGLE_FACTOR_MIN_LENGTH = 15;
export const MULTI_FACTOR_MIN_LENGTH = 8;
/** The highest minimum a tenant may set: NIST asks verifiers to accept at least 64. */
export const MAX_CONFIGURABLE_MIN_LENGTH = 64;

export interface PasswordLengthPolicy {
  mfaRequired: 'off' | 'admins' | 'all';
  passwordMinLength?: number | undefined;
}

function floorFor(policy: PasswordLengthPolicy): number {
  // 'admins' still leaves members with a password as their only factor.
  return policy.mfaRequired === 'all' ? MULTI_FACTOR_MIN_LENGTH : SINGLE_FACTOR_MIN_LENGTH;
}

/**
 * The effective minimum in code points: the tenant's setting raised to the floor its MFA
 * policy allows, and capped at the maximum length so a bad setting cannot lock everyone out.
 */
export function minimumLengthFor(policy: PasswordLengthPolicy): number {
  const requested = policy.passwordMinLength;
  const wanted =
    requested !== undefined && Number.isSafeInteger(requested)
      ? requested
      : SINGLE_FACTOR_MIN_LENGTH;
  return Math.min(Math.max(wanted, floorFor(policy)), MAX_PASSWORD_CODE_POINTS);
}

/** For `tenant.updateSecurityPolicy`: refuses a minimum the MFA setting does not allow. */
export function assertMinimumLengthAllowed(policy: PasswordLengthPolicy): void {
  const requested = policy.passwordMinLength;
  if (requested === undefined) return;
  const floor = floorFor(policy);
  if (
    !Number.isSafeInteger(requested) ||
    requested < floor ||
    requested > MAX_CONFIGURABLE_MIN_LENGTH
  ) {
    throw new AuthError('invalid_input', {
      detail:
        floor === MULTI_FACTOR_MIN_LENGTH
          ? 'The minimum password length must be a whole number from 8 to 64.'
          : 'The minimum password length must be from 15 to 64 unless MFA is required for everyone.',
      field: 'passwordMinLength',
    });
  }
}
