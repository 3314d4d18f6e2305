/**
 * Scheduled upkeep, each item found through a cross-tenant SECURITY DEFINER listing of
 * (tenant_id, id) and handled inside withTenant: export files are deleted 7 days after completion
 * (the download then answers "expired"), used or stale download links are removed, delivered
 * erasure confirmations (the last rows naming an erased subject's address) are deleted, and compliance
 * staff are told about open requests that fall due within REMINDER_WINDOW_MS.
 */
import { and, eq, inArray, isNotNull, isNull, lte } from 'drizzle-orm';
import {
  emailOutbox,
  listExpiredPrivacyDownloadTokens,
  listExpiredPrivacyExports,
  listPrivacyRemindersDue,
  listSentErasureConfirmations,
  privacyDownloadTokens,
  privacyRequests,
  users,
  withTenant,
  type Database,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import { deleteExportChunks } from './export-store.js';
import { enqueuePrivacyEmail } from './notifications.js';
import { tenantNameOf } from './requests.js';

export const REMINDER_WINDOW_MS = 3 * 24 * 60 * 60_000;
const BATCH = 200;

export interface MaintenanceDeps {
  database: Pick<Database, 'pool'>;
  keyring: Keyring;
  now: Date;
}

export async function purgeExpiredExports({ database, now }: MaintenanceDeps): Promise<number> {
  let purged = 0;
  for (const ref of await listExpiredPrivacyExports(database.pool, BATCH)) {
    purged += await withTenant(database, ref.tenantId, async (tx) => {
      const [request] = await tx
        .update(privacyRequests)
        .set({ exportChunks: null, updatedAt: now })
        .where(
          and(
            eq(privacyRequests.id, ref.id),
            isNotNull(privacyRequests.exportChunks),
            lte(privacyRequests.exportExpiresAt, now),
          ),
        )
        .returning({ id: privacyRequests.id, userId: privacyRequests.userId });
      if (!request) return 0;
      const chunks = await deleteExportChunks(tx, request.id);
      await tx.delete(privacyDownloadTokens).where(eq(privacyDownloadTokens.requestId, request.id));
      await recordAuditEvent(tx, {
        actor: { type: 'system', id: null },
        action: 'privacy.export.purged',
        target: { type: 'privacy_request', id: request.id },
        metadata: { subjectId: request.userId, chunks },
        occurredAt: now,
      });
      return 1;
    });
  }
  return purged;
}

export async function purgeExpiredDownloadLinks({
  database,
  now,
}: MaintenanceDeps): Promise<number> {
  let removed = 0;
  for (const ref of await listExpiredPrivacyDownloadTokens(database.pool, BATCH)) {
    removed += await withTenant(
      database,
      ref.tenantId,
      async (tx) =>
        (
          await tx
            .delete(privacyDownloadTokens)
            .where(
              and(eq(privacyDownloadTokens.id, ref.id), lte(privacyDownloadTokens.expiresAt, now)),
            )
            .returning({ id: privacyDownloadTokens.id })
        ).length,
    );
  }
  return removed;
}

export async function purgeSentErasureConfirmations({
  database,
}: MaintenanceDeps): Promise<number> {
  let removed = 0;
  for (const ref of await listSentErasureConfirmations(database.pool, BATCH)) {
    removed += await withTenant(
      database,
      ref.tenantId,
      async (tx) =>
        (
          await tx
            .delete(emailOutbox)
            .where(
              and(
                eq(emailOutbox.id, ref.id),
                eq(emailOutbox.template, 'privacy_erasure_completed'),
                isNotNull(emailOutbox.sentAt),
              ),
            )
            .returning({ id: emailOutbox.id })
        ).length,
    );
  }
  return removed;
}

/** One reminder per request (reset when the deadline is extended), to compliance staff, else owners. */
export async function sendDueSoonReminders({
  database,
  keyring,
  now,
}: MaintenanceDeps): Promise<number> {
  let sent = 0;
  for (const ref of await listPrivacyRemindersDue(
    database.pool,
    REMINDER_WINDOW_MS / 1000,
    BATCH,
  )) {
    sent += await withTenant(database, ref.tenantId, async (tx) => {
      const [request] = await tx
        .update(privacyRequests)
        .set({ remindedAt: now })
        .where(
          and(
            eq(privacyRequests.id, ref.id),
            isNull(privacyRequests.remindedAt),
            inArray(privacyRequests.status, ['pending', 'processing', 'blocked']),
          ),
        )
        .returning();
      if (!request) return 0;
      let staff = await tx
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(and(eq(users.role, 'compliance'), isNull(users.disabledAt)));
      if (staff.length === 0)
        staff = await tx
          .select({ id: users.id, email: users.email })
          .from(users)
          .where(and(eq(users.role, 'owner'), isNull(users.disabledAt)));
      const tenantName = await tenantNameOf(tx);
      for (const person of staff) {
        await enqueuePrivacyEmail(
          tx,
          { keyring, now },
          {
            to: { userId: person.id, address: person.email },
            tenantName,
            mail: {
              name: 'privacy_request_due_soon',
              requestId: request.id,
              type: request.type,
              dueAt: request.dueAt,
            },
          },
        );
      }
      return 1;
    });
  }
  return sent;
}

export interface MaintenanceResult {
  exportsPurged: number;
  linksRemoved: number;
  confirmationsRemoved: number;
  remindersSent: number;
}

export async function runPrivacyMaintenance(deps: MaintenanceDeps): Promise<MaintenanceResult> {
  return {
    exportsPurged: await purgeExpiredExports(deps),
    linksRemoved: await purgeExpiredDownloadLinks(deps),
    confirmationsRemoved: await purgeSentErasureConfirmations(deps),
    remindersSent: await sendDueSoonReminders(deps),
  };
}
