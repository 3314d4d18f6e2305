/**
 * GDPR erasure job (docs/contributing.md convention 16). Plain handler; only register-workers.ts knows
 * the queue. One run per request at a time (advisory lock on its own connection). The claim is
 * committed first; then processDeletionRequest erases every registered source, deletes the user
 * row, writes the erasure ledger, completes the request and queues the confirmation in one tenant
 * transaction, or records `blocked` when a legal hold stands (release resumes it). Killed halfway,
 * nothing is half-erased; the rerun erases once. With webhook endpoints that asked for
 * acknowledgements the run stops after queuing `privacy.erasure.started` until they acknowledge
 * (docs/privacy.md "Webhooks"). Pinned by gdpr-deletion.db.test.ts and privacy-webhooks.db.test.ts.
 */
import {
  claimPrivacyRequest,
  processDeletionRequest,
  type ErasureDeps,
} from '@tessera/auth/privacy';
import { withTenant } from '@tessera/db';
import type { GdprJobDeps } from './gdpr-export.js';
import { parseGdprJobData, type GdprJob, type GdprJobResult } from './gdpr-job-data.js';
import { withGdprJobLock } from './gdpr-job-lock.js';

export interface GdprDeletionDeps extends Omit<GdprJobDeps, 'afterChunk' | 'batchSize'> {
  /** Test hook, inside the erasure transaction after each source ("killed halfway"). */
  afterStep?: ErasureDeps['afterStep'];
}

export async function handleDeletionJob(
  job: GdprJob,
  deps: GdprDeletionDeps,
): Promise<GdprJobResult> {
  const { tenantId, requestId } = parseGdprJobData(job.data);
  const now = deps.now ?? ((): Date => new Date());
  const result = await withGdprJobLock(
    deps.database,
    requestId,
    async (): Promise<GdprJobResult> => {
      const claim = await withTenant(deps.database, tenantId, (tx) =>
        claimPrivacyRequest(tx, requestId, now()),
      );
      if (claim.status !== 'claimed')
        return claim.status === 'failed'
          ? { status: 'failed', reason: 'too many attempts' }
          : { status: 'skipped', reason: claim.reason };
      if (claim.request.type !== 'deletion') return { status: 'skipped', reason: 'not a deletion' };
      const outcome = await withTenant(deps.database, tenantId, (tx) =>
        processDeletionRequest(tx, requestId, {
          keyring: deps.keyring,
          now: now(),
          ...(deps.limiter ? { limiter: deps.limiter } : {}),
          ...(deps.afterStep ? { afterStep: deps.afterStep } : {}),
        }),
      );
      // Waiting for webhook acknowledgements (Art. 19): the request stays processing and is put
      // back to pending by the last acknowledgement; reported to the queue like a hold.
      return outcome === 'awaiting_ack'
        ? { status: 'blocked', reason: 'awaiting_acknowledgement' }
        : { status: outcome };
    },
  );
  const outcome = result ?? { status: 'locked' as const };
  deps.logger?.info({ tenantId, requestId, status: outcome.status }, 'gdpr deletion job finished');
  return outcome;
}
