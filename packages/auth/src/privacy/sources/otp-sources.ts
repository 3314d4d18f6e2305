/**
 * SMS numbers, one-time codes and remembered devices. The phone number is stored only
 * as keyring ciphertext, which a constant SQL query cannot open, so the export shows the two-digit
 * hint the console shows, and says so; codes appear as metadata only (never their hashes), devices
 * without their token hashes. Erasure deletes all three (the phone ciphertext goes with its row).
 */
import { isoColumn as ISO } from './identity-sources.js';
import { affected, tableExists, type PersonalDataSource } from './personal-data-source.js';

export const smsNumberSource: PersonalDataSource = {
  name: 'sms_number',
  description:
    'The phone number you registered for codes by text message (shown as its last two digits; the number itself is stored encrypted) and when it was verified.',
  tables: ['mfa_phone_numbers'],
  columns: ['phoneHint', 'createdAt', 'verifiedAt'],
  query: `SELECT phone_hint AS "phoneHint", ${ISO('created_at', 'createdAt')}, ${ISO('verified_at', 'verifiedAt')}
          FROM public.mfa_phone_numbers WHERE user_id = $1::uuid`,
  isAvailable: (tx) => tableExists(tx, 'mfa_phone_numbers'),
  erase: (tx, subject) =>
    affected(tx, 'DELETE FROM public.mfa_phone_numbers WHERE user_id = $1::uuid', [subject.userId]),
};

export const oneTimeCodesSource: PersonalDataSource = {
  name: 'one_time_codes',
  description:
    'Codes sent to you by text message or e-mail: purpose, channel and dates (never the codes or their hashes).',
  tables: ['one_time_codes'],
  columns: ['id', 'purpose', 'channel', 'attempts', 'createdAt', 'expiresAt', 'consumedAt'],
  query: `SELECT id::text AS "id", purpose AS "purpose", channel AS "channel", attempts AS "attempts", ${ISO('created_at', 'createdAt')},
            ${ISO('expires_at', 'expiresAt')}, ${ISO('consumed_at', 'consumedAt')}
          FROM public.one_time_codes WHERE user_id = $1::uuid ORDER BY created_at, id`,
  isAvailable: (tx) => tableExists(tx, 'one_time_codes'),
  erase: (tx, subject) =>
    affected(tx, 'DELETE FROM public.one_time_codes WHERE user_id = $1::uuid', [subject.userId]),
};

export const rememberedDevicesSource: PersonalDataSource = {
  name: 'remembered_devices',
  description:
    'Devices you chose to remember after two-factor sign-in: when, from which IP address and browser (never the device token or its hash).',
  tables: ['remembered_devices'],
  columns: [
    'id',
    'createdAt',
    'lastUsedAt',
    'expiresAt',
    'revokedAt',
    'revokedReason',
    'ipAddress',
    'userAgent',
  ],
  query: `SELECT id::text AS "id", ${ISO('created_at', 'createdAt')}, ${ISO('last_used_at', 'lastUsedAt')}, ${ISO('expires_at', 'expiresAt')},
            ${ISO('revoked_at', 'revokedAt')}, revoked_reason AS "revokedReason", host(ip_address) AS "ipAddress", user_agent AS "userAgent"
          FROM public.remembered_devices WHERE user_id = $1::uuid ORDER BY created_at, id`,
  isAvailable: (tx) => tableExists(tx, 'remembered_devices'),
  erase: (tx, subject) =>
    affected(tx, 'DELETE FROM public.remembered_devices WHERE user_id = $1::uuid', [
      subject.userId,
    ]),
};

export const otpSources = [smsNumberSource, oneTimeCodesSource, rememberedDevicesSource] as const;
