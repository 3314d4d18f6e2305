/**
 * GDPR export job (docs/contributing.md convention 16). `handleExportJob(job, deps)` is a plain
 * function: register-workers.ts is the only code that knows the queue.
 *
 * Guarantees: one run per request at a time (advisory lock on its own connection); the request
 * is claimed (processing, attempt counted) in a short committed transaction; the file is rendered
 * as a stream straight into encrypted chunks and the request completed, audited and the subject
 * told, all in one tenant transaction, so a worker killed halfway leaves no chunk behind and the
 * rerun writes the file once. An error is rethrown for the queue to retry with backoff; after
 * MAX_PROCESSING_ATTEMPTS claims the request is failed. The claim queues `privacy.export.started`
 * and the completion `privacy.export.completed` for the tenant's webhooks, each in its own
 * transaction and at most once per endpoint (docs/privacy.md "Webhooks"). Pinned by
 * gdpr-export.db.test.ts and privacy-webhooks.db.test.ts.
 */
import {
  availableSources,
  claimExportRequest,
  completeExport,
  deleteExportChunks,
  failPrivacyRequest,
  findPrivacySubject,
  tenantNameOf,
  writeExportChunks,
} from '@tessera/auth/privacy';
import type { Keyring } from '@tessera/auth';
import type { RateLimiter } from '@tessera/auth/rate-limit';
import { withTenant, type Database, type PrivacyRequestRow, type TenantTx } from '@tessera/db';
import { renderExport } from './gdpr-export-formats.js';
import {
  parseGdprJobData,
  type GdprJob,
  type GdprJobResult,
  type GdprLogger,
} from './gdpr-job-data.js';
import { withGdprJobLock } from './gdpr-job-lock.js';

export interface GdprJobDeps {
  /** Runtime role: RLS applies. */
  database: Database;
  keyring: Keyring;
  /** The console's origin, for the "your export is ready" mail. */
  consoleUrl: string;
  logger?: GdprLogger;
  now?: () => Date;
  /** Rows per database round trip while exporting (default 500). */
  batchSize?: number;
  /** Test hook, inside the export transaction after each chunk of output ("killed halfway"). */
  afterChunk?: (index: number) => Promise<void> | void;
  /** The sign-in and reset limiter (Redis when shared): erasure forgets its counts under the subject's addresses. */
  limiter?: RateLimiter;
}

export async function handleExportJob(job: GdprJob, deps: GdprJobDeps): Promise<GdprJobResult> {
  const { tenantId, requestId } = parseGdprJobData(job.data);
  const now = deps.now ?? ((): Date => new Date());
  const result = await withGdprJobLock(
    deps.database,
    requestId,
    async (): Promise<GdprJobResult> => {
      const claim = await withTenant(deps.database, tenantId, (tx) =>
        claimExportRequest(tx, requestId, now()),
      );
      if (claim.status !== 'claimed')
        return claim.status === 'failed'
          ? { status: 'failed', reason: 'too many attempts' }
          : { status: 'skipped', reason: claim.reason };
      if (claim.request.type !== 'export' || claim.request.format === null)
        return { status: 'skipped', reason: 'not an export' };
      return withTenant(deps.database, tenantId, (tx) =>
        exportRequest(tx, claim.request, deps, now),
      );
    },
  );
  const outcome = result ?? { status: 'locked' as const };
  deps.logger?.info({ tenantId, requestId, status: outcome.status }, 'gdpr export job finished');
  return outcome;
}

async function exportRequest(
  tx: TenantTx,
  request: PrivacyRequestRow,
  deps: GdprJobDeps,
  now: () => Date,
): Promise<GdprJobResult> {
  const subject = await findPrivacySubject(tx, request.userId);
  if (!subject) {
    await failPrivacyRequest(tx, request, 'the subject no longer exists', now());
    return { status: 'failed', reason: 'subject erased' };
  }
  await deleteExportChunks(tx, request.id); // nothing survives a rolled-back attempt; kept for safety
  const file = renderExport(request.format ?? 'json', {
    tx,
    subject,
    sources: await availableSources(tx),
    tenant: { id: tx.tenantId, name: await tenantNameOf(tx) },
    generatedAt: now(),
    ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
  });
  const written = await writeExportChunks(
    tx,
    deps.keyring,
    request.id,
    observed(file.body, deps.afterChunk),
  );
  await completeExport(
    tx,
    request,
    { contentType: file.contentType, fileName: file.fileName, ...written },
    { keyring: deps.keyring, now: now(), consoleUrl: deps.consoleUrl },
  );
  return { status: 'completed' };
}

async function* observed<T>(
  body: AsyncIterable<T>,
  hook: GdprJobDeps['afterChunk'],
): AsyncGenerator<T> {
  let index = 0;
  for await (const part of body) {
    yield part;
    await hook?.(index);
    index += 1;
  }
}
