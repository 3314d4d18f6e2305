import { jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { tenants } from './tenants.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

/** Kinds of relying party: confidential (web, machine) or public with PKCE (spa, native). */
export const oidcClientKinds = ['web', 'spa', 'native', 'machine'] as const;
export type OidcClientKind = (typeof oidcClientKinds)[number];

/** Mirrors migrations/0032_oidc_provider.sql; migrate.db.test.ts compares the two. */
export const oidcSigningKeys = pgTable(
  'oidc_signing_keys',
  {
    id: uuid('id').notNull().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    kid: text('kid').notNull(),
    alg: text('alg').$type<'RS256'>().notNull(),
    publicJwk: jsonb('public_jwk').$type<Record<string, string>>().notNull(),
    privateJwkCiphertext: text('private_jwk_ciphertext').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    activatesAt: tz('activates_at').notNull().defaultNow(),
    retiredAt: tz('retired_at'),
    publishedUntil: tz('published_until'),
  },
  (t) => [
    primaryKey({ name: 'oidc_signing_keys_pkey', columns: [t.tenantId, t.id] }),
    unique('oidc_signing_keys_tenant_kid_key').on(t.tenantId, t.kid),
  ],
);

export const oidcClients = pgTable(
  'oidc_clients',
  {
    id: uuid('id').notNull().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    clientId: text('client_id').notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<OidcClientKind>().notNull(),
    redirectUris: jsonb('redirect_uris').$type<string[]>().notNull().default([]),
    postLogoutRedirectUris: jsonb('post_logout_redirect_uris')
      .$type<string[]>()
      .notNull()
      .default([]),
    backchannelLogoutUri: text('backchannel_logout_uri'),
    scopes: jsonb('scopes').$type<string[]>().notNull().default([]),
    secretHash: bytea('secret_hash'),
    secretPrefix: text('secret_prefix'),
    createdBy: uuid('created_by'),
    createdAt: tz('created_at').notNull().defaultNow(),
    revokedAt: tz('revoked_at'),
  },
  (t) => [
    primaryKey({ name: 'oidc_clients_pkey', columns: [t.tenantId, t.id] }),
    unique('oidc_clients_client_id_key').on(t.tenantId, t.clientId),
  ],
);

export const oidcPayloads = pgTable(
  'oidc_payloads',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    idHash: bytea('id_hash').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uidHash: bytea('uid_hash'),
    userCodeHash: bytea('user_code_hash'),
    accountId: text('account_id'),
    clientId: text('client_id'),
    createdAt: tz('created_at').notNull().defaultNow(),
    expiresAt: tz('expires_at'),
    consumedAt: tz('consumed_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.idHash] })],
);
