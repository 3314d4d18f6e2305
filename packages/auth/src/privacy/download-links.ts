/**
 * Export download links (docs/design.md "Privacy", rule 4). A link is a random 256-bit token, stored only
 * as its SHA-256, valid for five minutes, for one export, and for one download: redeeming it marks
 * it used in the transaction that audits the download. Only the subject, compliance staff and
 * secret keys with privacy:read (checked by the router) may create one; anyone else learns only
 * "not found". The token is never logged (the HTTP route redacts its path).
 *
 * The token alone is not enough: it is redeemed only by the subject's own session or a session of
 * the tenant's compliance staff. Presented by anyone else (another user, another tenant, no session,
 * an API key) it is refused, spent (a link seen in the wrong hands is treated as leaked; the
 * subject asks for a new one) and the refusal is audited in the link's tenant, committed before
 * the answer. Pinned by privacy-download.security.test.ts.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import {
  lookupPrivacyDownload,
  privacyDownloadTokens,
  privacyRequests,
  withTenant,
  type Database,
  type PrivacyExportFormat,
  type TenantTx,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import { isWellFormedToken, randomToken, sha256 } from '../crypto/tokens.js';
import { AuthError } from '../errors.js';
import { actsForOthers, auditActorOf, requestMeta, type PrivacyActor } from './actor.js';

export const DOWNLOAD_LINK_TTL_MS = 5 * 60_000;
export const DOWNLOAD_PATH = '/privacy/downloads/';

export async function createExportDownloadLink(
  tx: TenantTx,
  actor: PrivacyActor,
  requestId: string,
  options: { now: Date; publicUrl: string },
): Promise<{ url: string; expiresAt: string }> {
  const [request] = await tx
    .select()
    .from(privacyRequests)
    .where(eq(privacyRequests.id, requestId));
  // Another subject's request looks exactly like a missing one.
  if (
    !request ||
    request.type !== 'export' ||
    (request.userId !== actor.id && !actsForOthers(actor))
  )
    throw new AuthError('not_found');
  if (
    request.status !== 'completed' ||
    request.exportChunks === null ||
    request.exportExpiresAt === null ||
    request.exportExpiresAt <= options.now
  ) {
    throw new AuthError('conflict', {
      detail:
        request.status === 'completed'
          ? 'This export has expired; request a new one.'
          : 'The export is not ready yet.',
    });
  }
  const token = randomToken(32);
  const expiresAt = new Date(options.now.getTime() + DOWNLOAD_LINK_TTL_MS);
  await tx.insert(privacyDownloadTokens).values({
    tenantId: tx.tenantId,
    requestId: request.id,
    tokenHash: sha256(token),
    createdByType: actor.type,
    createdBy: actor.id,
    createdAt: options.now,
    expiresAt,
  });
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    action: 'privacy.export.link_created',
    target: { type: 'privacy_request', id: request.id },
    ...requestMeta(actor),
    after: { subjectId: request.userId, expiresAt: expiresAt.toISOString() },
    occurredAt: options.now,
  });
  return {
    url: `${options.publicUrl}${DOWNLOAD_PATH}${token}`,
    expiresAt: expiresAt.toISOString(),
  };
}

export type RedeemedDownload =
  | {
      status: 'ok';
      tenantId: string;
      requestId: string;
      format: PrivacyExportFormat;
      contentType: string;
      fileName: string;
      bytes: number;
      chunks: number;
    }
  | { status: 'expired' }
  | { status: 'invalid' }
  | { status: 'refused'; reason: DownloadRefusal };

/** Who presents the link: the signed-in session of the request, or null (none, or an API key). */
export interface DownloadPresenter {
  tenantId: string;
  userId: string;
  role: string;
}

export type DownloadRefusal = 'no_session' | 'another_tenant' | 'not_the_subject';

export interface DownloadRequest {
  now: Date;
  presenter: DownloadPresenter | null;
  ip?: string | null;
  userAgent?: string | null;
}

function refusalOf(
  presenter: DownloadPresenter | null,
  tenantId: string,
  subjectId: string | null,
): DownloadRefusal | null {
  if (presenter === null) return 'no_session';
  if (presenter.tenantId !== tenantId) return 'another_tenant';
  // docs/design.md "Privacy": the subject's own session, or the tenant's compliance staff; no other role.
  return presenter.userId === subjectId || presenter.role === 'compliance'
    ? null
    : 'not_the_subject';
}

/**
 * Consumes a link: `invalid` for unknown, used or expired tokens; `refused` when the presenter may
 * not use it (the link is spent all the same); `expired` when the file is gone.
 */
export async function redeemExportDownload(
  database: Pick<Database, 'pool'>,
  token: string,
  request: DownloadRequest,
): Promise<RedeemedDownload> {
  if (!isWellFormedToken(token)) return { status: 'invalid' }; // malformed: no database round trip
  const found = await lookupPrivacyDownload(database.pool, sha256(token));
  if (!found) return { status: 'invalid' };
  return withTenant(database, found.tenantId, async (tx) => {
    const [link] = await tx
      .update(privacyDownloadTokens)
      .set({ usedAt: request.now })
      .where(
        and(
          eq(privacyDownloadTokens.id, found.id),
          isNull(privacyDownloadTokens.usedAt),
          gt(privacyDownloadTokens.expiresAt, request.now),
        ),
      )
      .returning();
    if (!link) return { status: 'invalid' } as const;
    const [row] = await tx
      .select()
      .from(privacyRequests)
      .where(eq(privacyRequests.id, link.requestId));
    const refusal = refusalOf(request.presenter, found.tenantId, row?.userId ?? null);
    const available =
      row &&
      row.format &&
      row.exportChunks !== null &&
      row.exportExpiresAt !== null &&
      row.exportExpiresAt > request.now;
    // A presenter from this tenant is named; anyone else is no actor of this tenant's log.
    const actorId =
      request.presenter?.tenantId === found.tenantId ? request.presenter.userId : null;
    await recordAuditEvent(tx, {
      actor: { type: actorId === null ? 'system' : 'user', id: actorId },
      action:
        available && refusal === null
          ? 'privacy.export.downloaded'
          : 'privacy.export.download_refused',
      target: { type: 'privacy_request', id: link.requestId },
      ip: request.ip ?? null,
      userAgent: request.userAgent ?? null,
      metadata: {
        subjectId: row?.userId ?? null,
        linkId: link.id,
        linkCreatedBy: link.createdBy,
        ...(refusal === null && available ? {} : { reason: refusal ?? 'export_expired' }),
      },
      occurredAt: request.now,
    });
    if (refusal !== null) return { status: 'refused', reason: refusal } as const;
    if (!available || !row.format) return { status: 'expired' } as const;
    return {
      status: 'ok',
      tenantId: found.tenantId,
      requestId: row.id,
      format: row.format,
      contentType: row.exportContentType ?? 'application/octet-stream',
      fileName: row.exportFileName ?? `export.${row.format}`,
      bytes: row.exportBytes ?? 0,
      chunks: row.exportChunks ?? 0,
    } as const;
  });
}
