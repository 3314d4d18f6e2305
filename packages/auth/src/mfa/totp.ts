/**
 * RFC 6238 TOTP through `otpauth`: SHA-1, 6 digits, 30-second steps, 160-bit secrets (the
 * parameters every authenticator app supports). SHA-1 here is the HMAC of RFC 6238/4226, not a
 * hash of a secret for storage.
 */
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export function newTotpSecret(): string {
  return new Secret({ buffer: randomBytes(20).buffer }).base32;
}

export function totpUri(secretBase32: string, issuer: string, label: string): string {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  }).toString();
}

export function timeStep(at: Date, period = TOTP_PERIOD_SECONDS): number {
  return Math.floor(at.getTime() / 1000 / period);
}

/**
 * Returns the time step the code matches (current, or one either side: RFC 6238 §5.2), or null.
 * `otpauth` answers the delta (0 for the current step), so the step is computed from it.
 */
export function matchTotpStep(
  secretBase32: string,
  code: string,
  at: Date,
  options: { algorithm?: TotpAlgorithm; digits?: number; period?: number } = {},
): number | null {
  const digits = options.digits ?? TOTP_DIGITS;
  const period = options.period ?? TOTP_PERIOD_SECONDS;
  const token = code.replace(/\s+/g, '');
  if (!new RegExp(`^\\d{${digits}}$`).test(token)) return null;
  const delta = TOTP.validate({
    token,
    secret: Secret.fromBase32(secretBase32),
    algorithm: options.algorithm ?? 'SHA1',
    digits,
    period,
    timestamp: at.getTime(),
    window: 1,
  });
  return delta === null ? null : timeStep(at, period) + delta;
}

/** Only for tests and the console's own self-check: the code for a step. */
export function totpCodeAt(secretBase32: string, at: Date): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: at.getTime(),
  });
}
