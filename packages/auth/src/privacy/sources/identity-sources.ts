/** Identity module: profile, sessions, devices, sign-in throttles, single-use tokens. */
import { revokeUserSessions } from '../../sessions/revoke-sessions.js';
import { affected, type PersonalDataSource } from './personal-data-source.js';

const ISO = (column: string, alias: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${alias}"`;

export const profileSource: PersonalDataSource = {
  name: 'profile',
  description:
    'Your account: e-mail address, name, role and sign-in state (never the password or its hash).',
  tables: ['users'],
  columns: [
    'id',
    'email',
    'emailVerifiedAt',
    'displayName',
    'role',
    'passwordSet',
    'lastLoginAt',
    'lastLoginIp',
    'failedLoginAttempts',
    'lockedUntil',
    'disabledAt',
    'createdAt',
    'updatedAt',
  ],
  query: `SELECT id::text AS "id", email AS "email", ${ISO('email_verified_at', 'emailVerifiedAt')}, display_name AS "displayName",
            role AS "role", (password_hash IS NOT NULL) AS "passwordSet", ${ISO('last_login_at', 'lastLoginAt')},
            host(last_login_ip) AS "lastLoginIp", failed_login_attempts AS "failedLoginAttempts", ${ISO('locked_until', 'lockedUntil')},
            ${ISO('disabled_at', 'disabledAt')}, ${ISO('created_at', 'createdAt')}, ${ISO('updated_at', 'updatedAt')}
          FROM public.users WHERE id = $1::uuid`,
  // The user row itself is deleted last by eraseUserData(): the pseudonym's link dies with it.
  erase: async () => 0,
};

export const sessionsSource: PersonalDataSource = {
  name: 'sessions',
  description:
    'Sign-in sessions: when, from which IP address and browser (never the session token or its hash).',
  tables: ['sessions'],
  columns: [
    'id',
    'createdAt',
    'lastActivityAt',
    'ipAddress',
    'userAgent',
    'aal',
    'mfaVerifiedAt',
    'revokedAt',
    'revokedReason',
  ],
  query: `SELECT id::text AS "id", ${ISO('created_at', 'createdAt')}, ${ISO('last_activity_at', 'lastActivityAt')}, host(ip_address) AS "ipAddress",
            user_agent AS "userAgent", aal AS "aal", ${ISO('mfa_verified_at', 'mfaVerifiedAt')}, ${ISO('revoked_at', 'revokedAt')},
            revoked_reason AS "revokedReason"
          FROM public.sessions WHERE user_id = $1::uuid ORDER BY created_at, id`,
  erase: async (tx, subject, { now }) => {
    await revokeUserSessions(tx, subject.userId, 'revoked', now);
    return affected(tx, 'DELETE FROM public.sessions WHERE user_id = $1::uuid', [subject.userId]);
  },
};

export const knownDevicesSource: PersonalDataSource = {
  name: 'known_devices',
  description:
    'Devices seen at sign-in (IP address and first/last seen; the browser is kept only as a hash).',
  tables: ['known_devices'],
  columns: ['ipAddress', 'firstSeenAt', 'lastSeenAt'],
  query: `SELECT host(ip_address) AS "ipAddress", ${ISO('first_seen_at', 'firstSeenAt')}, ${ISO('last_seen_at', 'lastSeenAt')}
          FROM public.known_devices WHERE user_id = $1::uuid ORDER BY first_seen_at`,
  erase: (tx, subject) =>
    affected(tx, 'DELETE FROM public.known_devices WHERE user_id = $1::uuid', [subject.userId]),
};

/**
 * Counters are keyed by address, not by user: the subject's current address and any address a
 * change was asked for (the pending user token names it; this source runs before user_tokens').
 * A former address's counters are deleted when the change is confirmed (accounts/email-change.ts).
 */
const SUBJECT_ADDRESSES = `(email = $2::text OR email IN (SELECT t.new_email FROM public.user_tokens t WHERE t.user_id = $1::uuid AND t.new_email IS NOT NULL))`;

export const loginThrottlesSource: PersonalDataSource = {
  name: 'login_throttles',
  description:
    'Failed sign-in counters kept for your e-mail address (and an address you asked to change to).',
  tables: ['login_throttles'],
  columns: ['email', 'failures', 'lockouts', 'lockedUntil', 'lastFailureAt'],
  query: `SELECT email AS "email", failures AS "failures", lockouts AS "lockouts", ${ISO('locked_until', 'lockedUntil')},
            ${ISO('last_failure_at', 'lastFailureAt')}
          FROM public.login_throttles WHERE ${SUBJECT_ADDRESSES} ORDER BY email`,
  erase: (tx, subject) =>
    affected(tx, `DELETE FROM public.login_throttles WHERE ${SUBJECT_ADDRESSES}`, [
      subject.userId,
      subject.email,
    ]),
};

export const userTokensSource: PersonalDataSource = {
  name: 'user_tokens',
  description:
    'Invitations, password resets, e-mail verifications and address changes for you or sent by you (never the tokens).',
  tables: ['user_tokens'],
  columns: ['id', 'kind', 'relation', 'newEmail', 'createdAt', 'expiresAt', 'usedAt'],
  query: `SELECT id::text AS "id", kind AS "kind", CASE WHEN user_id = $1::uuid THEN 'for_you' ELSE 'sent_by_you' END AS "relation",
            CASE WHEN user_id = $1::uuid THEN new_email END AS "newEmail",
            ${ISO('created_at', 'createdAt')}, ${ISO('expires_at', 'expiresAt')}, ${ISO('used_at', 'usedAt')}
          FROM public.user_tokens WHERE (user_id = $1::uuid OR created_by = $1::uuid)
          ORDER BY created_at, id`,
  erase: async (tx, subject) =>
    (await affected(tx, 'DELETE FROM public.user_tokens WHERE user_id = $1::uuid', [
      subject.userId,
    ])) +
    (await affected(
      tx,
      'UPDATE public.user_tokens SET created_by = NULL WHERE created_by = $1::uuid',
      [subject.userId],
    )),
};

export const identitySources = [
  profileSource,
  sessionsSource,
  knownDevicesSource,
  loginThrottlesSource,
  userTokensSource,
] as const;
export { ISO as isoColumn };
