import {
  boolean,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/** A group-to-role rule of a SAML connection: the role a just-in-time user gets. */
export interface SamlGroupRole {
  group: string;
  role: 'admin' | 'compliance' | 'member';
}

/** Mirrors migrations/0028_saml.sql; migrate.db.test.ts compares the two. */
export const samlConnections = pgTable(
  'saml_connections',
  {
    id: uuid('id').notNull().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    enabled: boolean('enabled').notNull().default(false),
    idpEntityID: text('idp_entity_id'),
    idpSsoUrl: text('idp_sso_url'),
    /** Base64 DER signing certificates: one, or two during a rotation. */
    idpCertificates: jsonb('idp_certificates').$type<string[]>().notNull().default([]),
    idpMetadataUrl: text('idp_metadata_url'),
    allowIdpInitiated: boolean('allow_idp_initiated').notNull().default(false),
    jitProvisioning: boolean('jit_provisioning').notNull().default(false),
    emailsVerified: boolean('emails_verified').notNull().default(false),
    trustIdpMfa: boolean('trust_idp_mfa').notNull().default(false),
    mfaContexts: jsonb('mfa_contexts').$type<string[]>().notNull().default([]),
    emailAttribute: text('email_attribute'),
    nameAttribute: text('name_attribute'),
    groupsAttribute: text('groups_attribute'),
    groupRoles: jsonb('group_roles').$type<SamlGroupRole[]>().notNull().default([]),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'saml_connections_pkey', columns: [t.tenantId, t.id] })],
);

/** Replay cache: one row per accepted assertion id, kept until the assertion expires. */
export const samlAssertionIds = pgTable(
  'saml_assertion_ids',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id').notNull(),
    assertionId: text('assertion_id').notNull(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [
    primaryKey({
      name: 'saml_assertion_ids_pkey',
      columns: [t.tenantId, t.connectionId, t.assertionId],
    }),
    foreignKey({
      name: 'saml_assertion_ids_connection_fk',
      columns: [t.tenantId, t.connectionId],
      foreignColumns: [samlConnections.tenantId, samlConnections.id],
    }).onDelete('cascade'),
    index('saml_assertion_ids_tenant_expires_idx').on(t.tenantId, t.expiresAt),
  ],
);

export type SamlConnectionRow = typeof samlConnections.$inferSelect;
