import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { tenants } from './tenants.js';

const tz = (name: string) => timestamp(name, { withTimezone: true });

export type AuditActorType = 'user' | 'api_key' | 'system';
export type AuditCheckpointKind = 'head' | 'prune';

/**
 * Mirrors migrations/0003_audit.sql; migrate.db.test.ts compares the two. Rows are written only
 * by @tessera/auth's recordAuditEvent (hash chain); never insert here directly.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    // No foreign key (see the migration): the head row, which every event needs, references tenants.
    tenantId: uuid('tenant_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    occurredAt: tz('occurred_at').notNull(),
    actorType: text('actor_type').$type<AuditActorType>().notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    pii: jsonb('pii').$type<Record<string, string>>(),
    piiSalt: bytea('pii_salt'),
    redactedAt: tz('redacted_at'),
    ipDigest: bytea('ip_digest'),
    userAgentDigest: bytea('user_agent_digest'),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    riskScore: smallint('risk_score').notNull(),
    prevHash: bytea('prev_hash').notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    index('audit_logs_tenant_actor_idx').on(t.tenantId, t.actorId, t.seq),
    index('audit_logs_tenant_action_idx').on(t.tenantId, t.action, t.seq),
    index('audit_logs_tenant_occurred_idx').on(t.tenantId, t.occurredAt),
    index('audit_logs_tenant_key_actor_idx')
      .on(t.tenantId, t.actorId, t.occurredAt)
      .where(sql`actor_type = 'api_key' AND action <> 'api_key.refused'`),
    index('audit_logs_tenant_target_idx')
      .on(t.tenantId, t.targetId, t.seq)
      .where(sql`target_id IS NOT NULL`),
  ],
);

export const auditChainHeads = pgTable('audit_chain_heads', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: bytea('hash').notNull(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: bytea('hash').notNull(),
    kind: text('kind').$type<AuditCheckpointKind>().notNull(),
    signedAt: tz('signed_at').notNull(),
    keyId: text('key_id').notNull(),
    signature: bytea('signature').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('audit_checkpoints_tenant_seq_idx').on(t.tenantId, t.seq),
  ],
);

export const auditSettings = pgTable('audit_settings', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  retentionDays: integer('retention_days'),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export type AuditLogRow = typeof auditLogs.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;

/** Mirrors migrations/0031_security_overview.sql: sign-in outcomes per tenant, action and UTC day. */
export const auditDailyCounts = pgTable(
  'audit_daily_counts',
  {
    tenantId: uuid('tenant_id').notNull(),
    action: text('action').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    events: integer('events').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.action, t.day] })],
);
