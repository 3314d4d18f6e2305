import {
  boolean,
  foreignKey,
  index,
  inet,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { tenants } from './tenants.js';
import { users } from './users.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/** Mirrors migrations/0004_identity.sql; migrate.db.test.ts compares the two. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    aal: smallint('aal').$type<1 | 2>().notNull().default(1),
    mfaVerifiedAt: tz('mfa_verified_at'),
    enrollmentOnly: boolean('enrollment_only').notNull().default(false),
    ipAddress: inet('ip_address'),
    userAgent: text('user_agent'),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastActivityAt: tz('last_activity_at').notNull().defaultNow(),
    revokedAt: tz('revoked_at'),
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    unique('sessions_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'sessions_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
    index('sessions_tenant_user_idx').on(t.tenantId, t.userId, t.createdAt),
  ],
);

export const loginThrottles = pgTable(
  'login_throttles',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    failures: integer('failures').notNull().default(0),
    lockouts: integer('lockouts').notNull().default(0),
    lockedUntil: tz('locked_until'),
    lastFailureAt: tz('last_failure_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.email] })],
);

export type UserTokenKind = 'invite' | 'password_reset' | 'email_verification' | 'email_change';

export const userTokens = pgTable(
  'user_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<UserTokenKind>().notNull(),
    userId: uuid('user_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    createdBy: uuid('created_by'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at').notNull(),
    usedAt: tz('used_at'),
    /** email_change only: the normalised address waiting for confirmation (migration 0013). */
    newEmail: text('new_email'),
  },
  (t) => [
    unique('user_tokens_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'user_tokens_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
  ],
);

export const knownDevices = pgTable(
  'known_devices',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    ipAddress: inet('ip_address').notNull(),
    userAgentHash: bytea('user_agent_hash').notNull(),
    firstSeenAt: tz('first_seen_at').notNull().defaultNow(),
    lastSeenAt: tz('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId, t.ipAddress, t.userAgentHash] })],
);

export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id'),
    toAddress: text('to_address').notNull(),
    template: text('template').notNull(),
    subject: text('subject').notNull(),
    body: text('body'),
    createdAt: tz('created_at').notNull().defaultNow(),
    sendAfter: tz('send_after').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    sentAt: tz('sent_at'),
  },
  (t) => [unique('email_outbox_tenant_id_id_key').on(t.tenantId, t.id)],
);
