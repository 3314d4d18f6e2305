import {
  bigint,
  foreignKey,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { tenants } from './tenants.js';
import { users } from './users.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });
const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/** Mirrors migrations/0006_mfa.sql; migrate.db.test.ts compares the two. */
export const mfaTotp = pgTable(
  'mfa_totp',
  {
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    secretCiphertext: text('secret_ciphertext'),
    pendingCiphertext: text('pending_ciphertext'),
    pendingCreatedAt: tz('pending_created_at'),
    enabledAt: tz('enabled_at'),
    lastUsedStep: bigint('last_used_step', { mode: 'number' }),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    lockedUntil: tz('locked_until'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    foreignKey({
      name: 'mfa_totp_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
  ],
);

export const mfaBackupCodes = pgTable(
  'mfa_backup_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    codeHash: text('code_hash').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    usedAt: tz('used_at'),
  },
  (t) => [unique('mfa_backup_codes_tenant_id_id_key').on(t.tenantId, t.id)],
);

export type MfaChallengePurpose = 'mfa' | 'sign_in_verification';

export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    usedAt: tz('used_at'),
    /** 'sign_in_verification': the e-mailed new-device code, never MFA (migration 0015). */
    purpose: text('purpose').$type<MfaChallengePurpose>().notNull().default('mfa'),
  },
  (t) => [unique('mfa_challenges_tenant_id_id_key').on(t.tenantId, t.id)],
);
