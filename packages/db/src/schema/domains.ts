import {
  boolean,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * Mirrors migrations/0026_verified_domains.sql; migrate.db.test.ts compares the two. A domain is
 * pending (no timestamp), verified (`verifiedAt`: held, settings in force) or suspended
 * (`suspendedAt`: the record went away; nothing enforced). One tenant holds a domain at a time
 * (the `tenant_domains_hold_once` trigger).
 */
export const tenantDomains = pgTable(
  'tenant_domains',
  {
    id: uuid('id').notNull().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    domain: text('domain').notNull(),
    verificationToken: text('verification_token').notNull(),
    requireSso: boolean('require_sso').notNull().default(false),
    autoJoin: boolean('auto_join').notNull().default(false),
    createdAt: tz('created_at').notNull().defaultNow(),
    verifiedAt: tz('verified_at'),
    suspendedAt: tz('suspended_at'),
    lastCheckedAt: tz('last_checked_at'),
  },
  (t) => [
    primaryKey({ name: 'tenant_domains_pkey', columns: [t.tenantId, t.id] }),
    unique('tenant_domains_tenant_domain_key').on(t.tenantId, t.domain),
    index('tenant_domains_tenant_checked_idx').on(t.tenantId, t.lastCheckedAt),
  ],
);

export type TenantDomainRow = typeof tenantDomains.$inferSelect;
