import {
  foreignKey,
  inet,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { mfaChallenges } from './mfa.js';
import { tenants } from './tenants.js';
import { users } from './users.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });
const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/** Mirrors migrations/0012_otp_devices.sql; migrate.db.test.ts compares the two. */
export const mfaPhoneNumbers = pgTable(
  'mfa_phone_numbers',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    phoneCiphertext: text('phone_ciphertext').notNull(),
    phoneHint: text('phone_hint').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    verifiedAt: tz('verified_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    foreignKey({
      name: 'mfa_phone_numbers_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
  ],
);

export type OneTimeCodePurpose =
  'mfa_sign_in' | 'sms_enrollment' | 'email_verification' | 'sign_in_verification';
export type OneTimeCodeChannel = 'sms' | 'email';

export const oneTimeCodes = pgTable(
  'one_time_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    purpose: text('purpose').$type<OneTimeCodePurpose>().notNull(),
    channel: text('channel').$type<OneTimeCodeChannel>().notNull(),
    challengeId: uuid('challenge_id'),
    codeHash: bytea('code_hash').notNull(),
    keyCiphertext: text('key_ciphertext').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
    consumedAt: tz('consumed_at'),
    supersededAt: tz('superseded_at'),
  },
  (t) => [
    unique('one_time_codes_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'one_time_codes_challenge_fk',
      columns: [t.tenantId, t.challengeId],
      foreignColumns: [mfaChallenges.tenantId, mfaChallenges.id],
    }).onDelete('cascade'),
  ],
);

export const rememberedDevices = pgTable(
  'remembered_devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    createdAt: tz('created_at').notNull(),
    lastUsedAt: tz('last_used_at'),
    expiresAt: tz('expires_at').notNull(),
    revokedAt: tz('revoked_at'),
    revokedReason: text('revoked_reason'),
    ipAddress: inet('ip_address'),
    userAgent: text('user_agent'),
  },
  (t) => [unique('remembered_devices_tenant_id_id_key').on(t.tenantId, t.id)],
);

export type RememberedDeviceRow = typeof rememberedDevices.$inferSelect;
export type OneTimeCodeRow = typeof oneTimeCodes.$inferSelect;
