import { pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/**
 * Mirrors migrations/0034_custom_roles.sql; migrate.db.test.ts compares the two. A tenant's own
 * named permission set; members hold one through `users.customRoleId` (docs/roles.md).
 */
export const tenantRoles = pgTable(
  'tenant_roles',
  {
    id: uuid('id').notNull().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    permissions: text('permissions').array().notNull().default([]),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'tenant_roles_pkey', columns: [t.tenantId, t.id] })],
);

export type TenantRoleRow = typeof tenantRoles.$inferSelect;
