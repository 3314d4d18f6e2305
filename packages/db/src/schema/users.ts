import { inet, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';

export const userRoles = ['owner', 'admin', 'compliance', 'member'] as const;
export type UserRole = (typeof userRoles)[number];

/** Mirrors migrations/0002_tenants_users.sql; migrate.db.test.ts compares the two. */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true }),
    displayName: text('display_name'),
    passwordHash: text('password_hash'),
    passwordAlgorithm: text('password_algorithm').$type<'argon2id' | 'bcrypt'>(),
    role: text('role').$type<UserRole>().notNull().default('member'),
    failedLoginAttempts: integer('failed_login_attempts').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    lastLoginIp: inet('last_login_ip'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /** E-mailed sign-in codes on new devices (migration 0015); not a second factor. */
    emailCodesEnabledAt: timestamp('email_codes_enabled_at', { withTimezone: true }),
    /** A custom role (migration 0034, docs/roles.md); only with role 'member'. */
    customRoleId: uuid('custom_role_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('users_tenant_id_id_key').on(t.tenantId, t.id),
    unique('users_tenant_email_key').on(t.tenantId, t.email),
  ],
);

export type UserRow = typeof users.$inferSelect;
