/** MFA, API keys, SSO identities and the e-mail outbox. */
import { isoColumn as ISO } from './identity-sources.js';
import { affected, tableExists, type PersonalDataSource } from './personal-data-source.js';

export const mfaSource: PersonalDataSource = {
  name: 'mfa',
  description:
    'Two-factor status: whether it is on, since when, and how many backup codes are left (never the secret or the codes).',
  tables: ['mfa_totp', 'mfa_backup_codes', 'mfa_challenges'],
  columns: [
    'enabled',
    'enabledAt',
    'enrollmentPending',
    'backupCodesRemaining',
    'backupCodesUsed',
    'signInChallenges',
  ],
  query: `SELECT (t.enabled_at IS NOT NULL) AS "enabled", ${ISO('t.enabled_at', 'enabledAt')},
            (t.pending_ciphertext IS NOT NULL) AS "enrollmentPending",
            (SELECT count(*)::int FROM public.mfa_backup_codes b WHERE b.user_id = $1::uuid AND b.used_at IS NULL) AS "backupCodesRemaining",
            (SELECT count(*)::int FROM public.mfa_backup_codes b WHERE b.user_id = $1::uuid AND b.used_at IS NOT NULL) AS "backupCodesUsed",
            (SELECT count(*)::int FROM public.mfa_challenges c WHERE c.user_id = $1::uuid) AS "signInChallenges"
          FROM (SELECT 1) one LEFT JOIN public.mfa_totp t ON t.user_id = $1::uuid`,
  erase: async (tx, subject) =>
    (await affected(tx, 'DELETE FROM public.mfa_backup_codes WHERE user_id = $1::uuid', [
      subject.userId,
    ])) +
    (await affected(tx, 'DELETE FROM public.mfa_challenges WHERE user_id = $1::uuid', [
      subject.userId,
    ])) +
    (await affected(tx, 'DELETE FROM public.mfa_totp WHERE user_id = $1::uuid', [subject.userId])),
};

/**
 * Keys the subject created: metadata only (never the hash). Erasure keeps the tenant's keys and
 * clears `created_by`: the foreign key does it (ON DELETE SET NULL) when the user row goes, as the
 * runtime role may not update that column.
 */
export const apiKeysSource: PersonalDataSource = {
  name: 'api_keys',
  description:
    'API keys you created: name, prefix, scopes and usage dates (never the key or its hash).',
  tables: ['api_keys'],
  columns: [
    'id',
    'name',
    'type',
    'environment',
    'prefix',
    'scopes',
    'createdAt',
    'lastUsedAt',
    'expiresAt',
    'revokedAt',
  ],
  query: `SELECT id::text AS "id", name AS "name", type AS "type", environment AS "environment", prefix AS "prefix", scopes AS "scopes",
            ${ISO('created_at', 'createdAt')}, ${ISO('last_used_at', 'lastUsedAt')}, ${ISO('expires_at', 'expiresAt')}, ${ISO('revoked_at', 'revokedAt')}
          FROM public.api_keys WHERE created_by = $1::uuid ORDER BY created_at, id`,
  isAvailable: (tx) => tableExists(tx, 'api_keys'),
  erase: async () => 0,
};

export const linkedIdentitiesSource: PersonalDataSource = {
  name: 'linked_identities',
  description: 'Single sign-on accounts linked to you: provider, issuer and subject identifier.',
  tables: ['user_identities'],
  columns: ['id', 'provider', 'issuer', 'subject', 'createdAt', 'lastUsedAt'],
  query: `SELECT id::text AS "id", provider AS "provider", issuer AS "issuer", subject AS "subject",
            ${ISO('created_at', 'createdAt')}, ${ISO('last_used_at', 'lastUsedAt')}
          FROM public.user_identities WHERE user_id = $1::uuid ORDER BY created_at, id`,
  isAvailable: (tx) => tableExists(tx, 'user_identities'),
  erase: (tx, subject) =>
    affected(tx, 'DELETE FROM public.user_identities WHERE user_id = $1::uuid', [subject.userId]),
};

export const emailOutboxSource: PersonalDataSource = {
  name: 'email_outbox',
  description:
    'Messages we sent or will send you: template, subject line and dates (bodies may hold single-use links and are not exported).',
  tables: ['email_outbox'],
  columns: ['id', 'template', 'toAddress', 'subject', 'createdAt', 'sentAt'],
  query: `SELECT id::text AS "id", template AS "template", to_address AS "toAddress", subject AS "subject",
            ${ISO('created_at', 'createdAt')}, ${ISO('sent_at', 'sentAt')}
          FROM public.email_outbox WHERE user_id = $1::uuid OR lower(to_address) = $2::text ORDER BY created_at, id`,
  erase: (tx, subject) =>
    affected(
      tx,
      'DELETE FROM public.email_outbox WHERE user_id = $1::uuid OR lower(to_address) = $2::text',
      [subject.userId, subject.email],
    ),
};
