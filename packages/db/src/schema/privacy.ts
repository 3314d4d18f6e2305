import {
  bigint,
  foreignKey,
  index,
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

const tz = (name: string) => timestamp(name, { withTimezone: true });
const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

export const privacyRequestTypes = ['export', 'deletion'] as const;
export type PrivacyRequestType = (typeof privacyRequestTypes)[number];
export const privacyExportFormats = ['json', 'csv', 'pdf'] as const;
export type PrivacyExportFormat = (typeof privacyExportFormats)[number];
export const privacyRequestStatuses = [
  'pending',
  'processing',
  'completed',
  'failed',
  'rejected',
  'blocked',
] as const;
export type PrivacyRequestStatus = (typeof privacyRequestStatuses)[number];
/** Who asked: a user, an API key, or (deletions only) a SCIM token of the tenant's directory. */
export type PrivacyActorType = 'user' | 'api_key' | 'scim_token';

/**
 * Mirrors migrations/0008_privacy.sql; migrate.db.test.ts compares the two. Subjects are plain
 * user ids (no foreign key): requests, holds and the erasure ledger outlive an erased user row.
 */
export const privacyRequests = pgTable(
  'privacy_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    type: text('type').$type<PrivacyRequestType>().notNull(),
    format: text('format').$type<PrivacyExportFormat>(),
    status: text('status').$type<PrivacyRequestStatus>().notNull().default('pending'),
    requestedByType: text('requested_by_type').$type<PrivacyActorType>().notNull(),
    requestedBy: uuid('requested_by').notNull(),
    requestedAt: tz('requested_at').notNull(),
    originalDueAt: tz('original_due_at').notNull(),
    dueAt: tz('due_at').notNull(),
    extendedMonths: smallint('extended_months').notNull().default(0),
    extensionReason: text('extension_reason'),
    contactEmail: text('contact_email'),
    rejectionReason: text('rejection_reason'),
    failureReason: text('failure_reason'),
    attempts: integer('attempts').notNull().default(0),
    startedAt: tz('started_at'),
    completedAt: tz('completed_at'),
    remindedAt: tz('reminded_at'),
    exportContentType: text('export_content_type'),
    exportFileName: text('export_file_name'),
    exportBytes: bigint('export_bytes', { mode: 'number' }),
    exportChunks: integer('export_chunks'),
    exportExpiresAt: tz('export_expires_at'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique('privacy_requests_tenant_id_id_key').on(t.tenantId, t.id),
    index('privacy_requests_tenant_user_idx').on(t.tenantId, t.userId, t.requestedAt),
  ],
);
export type PrivacyRequestRow = typeof privacyRequests.$inferSelect;

export const privacyLegalHolds = pgTable(
  'privacy_legal_holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    userId: uuid('user_id').notNull(),
    reason: text('reason'),
    placedBy: uuid('placed_by').notNull(),
    placedAt: tz('placed_at').notNull(),
    releasedBy: uuid('released_by'),
    releasedAt: tz('released_at'),
  },
  (t) => [unique('privacy_legal_holds_tenant_id_id_key').on(t.tenantId, t.id)],
);
export type PrivacyLegalHoldRow = typeof privacyLegalHolds.$inferSelect;

export const privacyExportChunks = pgTable(
  'privacy_export_chunks',
  {
    tenantId: tenantId(),
    requestId: uuid('request_id').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    ciphertext: text('ciphertext').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.requestId, t.chunkIndex] }),
    foreignKey({
      name: 'privacy_export_chunks_request_fk',
      columns: [t.tenantId, t.requestId],
      foreignColumns: [privacyRequests.tenantId, privacyRequests.id],
    }).onDelete('cascade'),
  ],
);

export const privacyDownloadTokens = pgTable(
  'privacy_download_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    requestId: uuid('request_id').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    createdByType: text('created_by_type').$type<PrivacyActorType>().notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
    usedAt: tz('used_at'),
  },
  (t) => [
    unique('privacy_download_tokens_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'privacy_download_tokens_request_fk',
      columns: [t.tenantId, t.requestId],
      foreignColumns: [privacyRequests.tenantId, privacyRequests.id],
    }).onDelete('cascade'),
  ],
);

export const privacyErasureLedger = pgTable(
  'privacy_erasure_ledger',
  {
    tenantId: tenantId(),
    requestId: uuid('request_id').notNull(),
    userId: uuid('user_id').notNull(),
    erasedAt: tz('erased_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.requestId] })],
);
