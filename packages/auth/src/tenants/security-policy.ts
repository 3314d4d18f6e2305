/** A tenant's security policy (tenants.security_policy), with defaults and bounds in one place. */
import { minimumLengthFor } from '../passwords/minimum-length.js';
export type MfaRequirement = 'off' | 'admins' | 'all';

export interface SecurityPolicy {
  mfaRequired: MfaRequirement;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  maxSessionsPerUser: number;
  passwordMinLength: number;
  lockoutThreshold: number;
  lockoutBaseSeconds: number;
  /** Days a device stays trusted after a second factor (0 disables remembered devices). */
  rememberDeviceDays: number;
  /** A passkey with user verification may sign in without a password (AAL2). */
  passkeyPasswordless: boolean;
  /** SMS codes count as a (restricted, NIST SP 800-63B) second factor. */
  smsCodesAllowed: boolean;
  /** E-mail one-time codes may be used where the tenant allows them; never as a second factor. */
  emailCodesAllowed: boolean;
}

export const DEFAULT_SECURITY_POLICY: Readonly<SecurityPolicy> = Object.freeze({
  mfaRequired: 'off',
  sessionIdleMinutes: 30,
  sessionMaxHours: 8,
  maxSessionsPerUser: 5,
  passwordMinLength: 15,
  lockoutThreshold: 5,
  lockoutBaseSeconds: 30,
  rememberDeviceDays: 30,
  passkeyPasswordless: false,
  smsCodesAllowed: false,
  emailCodesAllowed: false,
});

/** Lock durations double per lockout and stop here, so a victim is never locked out for long. */
export const MAX_LOCK_SECONDS = 15 * 60;

export const POLICY_BOUNDS = {
  sessionIdleMinutes: [5, 1440],
  sessionMaxHours: [1, 720],
  maxSessionsPerUser: [1, 100],
  passwordMinLength: [8, 256],
  lockoutThreshold: [3, 50],
  lockoutBaseSeconds: [1, 3600],
  rememberDeviceDays: [0, 365],
} as const satisfies Record<string, readonly [number, number]>;

function bounded(value: unknown, key: keyof typeof POLICY_BOUNDS): number {
  const [min, max] = POLICY_BOUNDS[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
    ? value
    : DEFAULT_SECURITY_POLICY[key];
}

/** Reads a stored policy; unknown or out-of-range values fall back to the defaults. */
export function parseSecurityPolicy(
  stored: Record<string, unknown> | null | undefined,
): SecurityPolicy {
  const raw = stored ?? {};
  const mfa = raw['mfaRequired'];
  const policy: SecurityPolicy = {
    mfaRequired: mfa === 'admins' || mfa === 'all' ? mfa : 'off',
    sessionIdleMinutes: bounded(raw['sessionIdleMinutes'], 'sessionIdleMinutes'),
    sessionMaxHours: bounded(raw['sessionMaxHours'], 'sessionMaxHours'),
    maxSessionsPerUser: bounded(raw['maxSessionsPerUser'], 'maxSessionsPerUser'),
    passwordMinLength: bounded(raw['passwordMinLength'], 'passwordMinLength'),
    lockoutThreshold: bounded(raw['lockoutThreshold'], 'lockoutThreshold'),
    lockoutBaseSeconds: bounded(raw['lockoutBaseSeconds'], 'lockoutBaseSeconds'),
    rememberDeviceDays: bounded(raw['rememberDeviceDays'], 'rememberDeviceDays'),
    passkeyPasswordless: raw['passkeyPasswordless'] === true,
    smsCodesAllowed: raw['smsCodesAllowed'] === true,
    emailCodesAllowed: raw['emailCodesAllowed'] === true,
  };
  return { ...policy, passwordMinLength: effectiveMinLength(policy) };
}

/** NIST SP 800-63B rev 4: 15 when the password may be the only factor; 8 only when MFA is enforced for all. */
export function effectiveMinLength(
  policy: Pick<SecurityPolicy, 'mfaRequired' | 'passwordMinLength'>,
): number {
  return minimumLengthFor(policy);
}

const MFA_RANK: Record<MfaRequirement, number> = { off: 0, admins: 1, all: 2 };
const raised = (before: number, next: number): boolean => next > before;
const lowered = (before: number, next: number): boolean => next < before;
const switchedOn = (before: boolean, next: boolean): boolean => next && !before;

/**
 * Which way lowers protection, for every setting (the compiler makes a new setting declare it):
 * such a change needs step-up (docs/design.md "Identity"). Longer sessions, more of them, longer
 * remembered devices, more guesses before a lock, shorter locks, shorter passwords, fewer users
 * bound to MFA, password-less or SMS sign-in, and taking away e-mail sign-in checks users opted into.
 */
const WEAKENS: {
  [K in keyof SecurityPolicy]: (before: SecurityPolicy[K], next: SecurityPolicy[K]) => boolean;
} = {
  mfaRequired: (before, next) => MFA_RANK[next] < MFA_RANK[before],
  sessionIdleMinutes: raised,
  sessionMaxHours: raised,
  maxSessionsPerUser: raised,
  passwordMinLength: lowered,
  lockoutThreshold: raised,
  lockoutBaseSeconds: lowered,
  rememberDeviceDays: raised,
  passkeyPasswordless: switchedOn,
  smsCodesAllowed: switchedOn,
  emailCodesAllowed: (before, next) => before && !next,
};

/** The settings that `next` weakens compared with `before` (empty: nothing lowers protection). */
export function weakenedSettings(
  before: SecurityPolicy,
  next: SecurityPolicy,
): (keyof SecurityPolicy)[] {
  return (Object.keys(WEAKENS) as (keyof SecurityPolicy)[]).filter((key) =>
    (WEAKENS[key] as (b: unknown, n: unknown) => boolean)(before[key], next[key]),
  );
}

/** Exponential backoff: base * 2^(lockouts-1), capped. */
export function lockSeconds(policy: SecurityPolicy, lockouts: number): number {
  return Math.min(MAX_LOCK_SECONDS, policy.lockoutBaseSeconds * 2 ** Math.max(0, lockouts - 1));
}
