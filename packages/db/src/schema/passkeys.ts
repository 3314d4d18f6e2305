import {
  bigint,
  boolean,
  foreignKey,
  jsonb,
  pgTable,
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

export type WebauthnChallengePurpose =
  'registration' | 'second_factor' | 'passwordless' | 'step_up';

/** Mirrors migrations/0011_passkeys.sql; migrate.db.test.ts compares the two. */
export const webauthnCredentials = pgTable(
  'webauthn_credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    credentialId: text('credential_id').notNull(),
    publicKey: bytea('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull().default(0),
    transports: jsonb('transports').$type<string[]>().notNull().default([]),
    deviceType: text('device_type').$type<'singleDevice' | 'multiDevice'>().notNull(),
    backedUp: boolean('backed_up').notNull().default(false),
    name: text('name').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
  },
  (t) => [
    unique('webauthn_credentials_tenant_id_id_key').on(t.tenantId, t.id),
    unique('webauthn_credentials_credential_key').on(t.tenantId, t.credentialId),
    foreignKey({
      name: 'webauthn_credentials_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
  ],
);

export const webauthnChallenges = pgTable(
  'webauthn_challenges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    challengeHash: bytea('challenge_hash').notNull(),
    purpose: text('purpose').$type<WebauthnChallengePurpose>().notNull(),
    userId: uuid('user_id'),
    sessionId: uuid('session_id'),
    mfaChallengeId: uuid('mfa_challenge_id'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [
    unique('webauthn_challenges_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'webauthn_challenges_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'webauthn_challenges_mfa_fk',
      columns: [t.tenantId, t.mfaChallengeId],
      foreignColumns: [mfaChallenges.tenantId, mfaChallenges.id],
    }).onDelete('cascade'),
  ],
);

export type WebauthnCredentialRow = typeof webauthnCredentials.$inferSelect;
export type WebauthnChallengeRow = typeof webauthnChallenges.$inferSelect;
