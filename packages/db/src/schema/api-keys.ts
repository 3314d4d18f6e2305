import {
  foreignKey,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { bytea } from './bytea.js';
import { tenants } from './tenants.js';
import { users } from './users.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

export type ApiKeyType = 'publishable' | 'secret';
export type ApiKeyEnvironment = 'live' | 'test';

/**
 * Mirrors migrations/0007_api_keys.sql; migrate.db.test.ts compares the two. The runtime role may
 * not SELECT `key_hash` (column grant): always select explicit columns, never `select()` or a bare
 * `returning()`. Pre-tenant lookups go through api-key-lookups.ts.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type').$type<ApiKeyType>().notNull(),
    environment: text('environment').$type<ApiKeyEnvironment>().notNull(),
    prefix: text('prefix').notNull(),
    keyHash: bytea('key_hash').notNull(),
    pepperVersion: text('pepper_version').notNull(),
    scopes: jsonb('scopes').$type<string[]>().notNull().default([]),
    allowedCidrs: jsonb('allowed_cidrs').$type<string[]>().notNull().default([]),
    rateLimitMax: integer('rate_limit_max'),
    rateLimitWindowSeconds: integer('rate_limit_window_seconds'),
    quotaRemaining: integer('quota_remaining'),
    quotaRefillAmount: integer('quota_refill_amount'),
    quotaRefillSeconds: integer('quota_refill_seconds'),
    quotaRefilledAt: tz('quota_refilled_at'),
    expiresAt: tz('expires_at'),
    revokedAt: tz('revoked_at'),
    createdBy: uuid('created_by'),
    createdByKeyId: uuid('created_by_key_id'),
    rotatedFromId: uuid('rotated_from_id'),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
    lastUsedIp: inet('last_used_ip'),
  },
  (t) => [
    unique('api_keys_tenant_id_id_key').on(t.tenantId, t.id),
    uniqueIndex('api_keys_key_hash_key').on(t.keyHash),
    index('api_keys_tenant_created_idx').on(t.tenantId, t.createdAt),
    // Quota charges walk a key's successors (migrations/0023).
    index('api_keys_tenant_rotated_from_idx')
      .on(t.tenantId, t.rotatedFromId)
      .where(sql`rotated_from_id IS NOT NULL`),
    // ON DELETE SET NULL (column) in SQL: only the named column is cleared, never tenant_id.
    foreignKey({
      name: 'api_keys_created_by_fk',
      columns: [t.tenantId, t.createdBy],
      foreignColumns: [users.tenantId, users.id],
    }),
    foreignKey({
      name: 'api_keys_created_by_key_fk',
      columns: [t.tenantId, t.createdByKeyId],
      foreignColumns: [t.tenantId, t.id] as [AnyPgColumn, AnyPgColumn],
    }),
    foreignKey({
      name: 'api_keys_rotated_from_fk',
      columns: [t.tenantId, t.rotatedFromId],
      foreignColumns: [t.tenantId, t.id] as [AnyPgColumn, AnyPgColumn],
    }),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKeyRow = typeof apiKeys.$inferInsert;

/**
 * Mirrors migrations/0021_api_key_refusal_tallies.sql: per key and refusal reason, when the last
 * `api_key.refused` event was written and how many refusals since then no event reported yet.
 */
export const apiKeyRefusalTallies = pgTable(
  'api_key_refusal_tallies',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    apiKeyId: uuid('api_key_id').notNull(),
    reason: text('reason').notNull(),
    lastEventAt: tz('last_event_at').notNull(),
    suppressed: integer('suppressed').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.apiKeyId, t.reason] }),
    foreignKey({
      name: 'api_key_refusal_tallies_key_fk',
      columns: [t.tenantId, t.apiKeyId],
      foreignColumns: [apiKeys.tenantId, apiKeys.id],
    }).onDelete('cascade'),
  ],
);

export type ApiKeyRefusalTallyRow = typeof apiKeyRefusalTallies.$inferSelect;
