import {
  boolean,
  foreignKey,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';
import { users } from './users.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * Mirrors migrations/0009_sso.sql; migrate.db.test.ts compares the two. One row per tenant.
 * `clientSecretCiphertext` is keyring ciphertext bound to ('sso.client_secret', tenant, id).
 */
export const ssoSettings = pgTable(
  'sso_settings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    enabled: boolean('enabled').notNull().default(false),
    displayName: text('display_name'),
    issuer: text('issuer'),
    clientId: text('client_id'),
    clientSecretCiphertext: text('client_secret_ciphertext'),
    platformProviders: jsonb('platform_providers').$type<string[]>().notNull().default([]),
    jitProvisioning: boolean('jit_provisioning').notNull().default(false),
    trustProviderMfa: boolean('trust_provider_mfa').notNull().default(false),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique('sso_settings_tenant_id_id_key').on(t.tenantId, t.id),
    unique('sso_settings_tenant_key').on(t.tenantId),
  ],
);

/** A provider account (issuer, subject) linked to a user; unique per (tenant, provider, subject). */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    provider: text('provider').notNull(),
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    lastUsedAt: tz('last_used_at'),
  },
  (t) => [
    unique('user_identities_tenant_id_id_key').on(t.tenantId, t.id),
    unique('user_identities_tenant_provider_subject_key').on(t.tenantId, t.provider, t.subject),
    foreignKey({
      name: 'user_identities_user_fk',
      columns: [t.tenantId, t.userId],
      foreignColumns: [users.tenantId, users.id],
    }).onDelete('cascade'),
    index('user_identities_tenant_user_idx').on(t.tenantId, t.userId),
  ],
);

export type SsoSettingsRow = typeof ssoSettings.$inferSelect;
export type UserIdentityRow = typeof userIdentities.$inferSelect;
