/**
 * privacy.* (docs/design.md "Public contract"): a signed-in subject asks for an export or the erasure of
 * their data and follows their requests; the subject or compliance staff get a short-lived
 * download link for a finished export. Logic lives in @tessera/auth/privacy; bodies only bind
 * the caller and its tenant transaction. `privacy.webhooks.*` (Art. 19 propagation) lives in
 * privacy-webhooks.ts.
 */
import {
  createExportDownloadLink,
  createPrivacyRequest,
  listOwnPrivacyRequests,
  requestView,
} from '@tessera/auth/privacy';
import { exportDownloadInput, requestExportInput } from '../inputs/privacy.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { router, sessionProcedure, tenantProcedure } from '../trpc.js';
import { privacyActorOf, privacyDepsOf } from './privacy-actor.js';
import { privacyWebhooksRouter } from './privacy-webhooks.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import { exportDownloadOutput } from '../outputs/privacy.js';

const downloadAgrees: Same<
  z.output<typeof exportDownloadOutput>,
  Awaited<ReturnType<typeof createExportDownloadLink>>
> = true;
void downloadAgrees;

// Shared with the compliance and webhook routers; kept in its own module so that nesting the
// webhook router here makes no import cycle.
export { privacyActorOf, privacyDepsOf } from './privacy-actor.js';

const signedIn = { permission: 'self' } as const;

export const privacyRouter = router({
  requestExport: sessionProcedure
    .meta({ access: signedIn })
    .input(requestExportInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => {
        const { request } = await createPrivacyRequest(
          tx,
          privacyActorOf(ctx.principal, ctx),
          { userId: ctx.principal.userId, type: 'export', format: input.format },
          privacyDepsOf(ctx),
        );
        return { request: requestView(request) };
      }),
    ),
  requestDeletion: sessionProcedure.meta({ access: signedIn }).mutation(({ ctx }) => {
    assertRecentMfa(ctx.principal, ctx.now());
    return ctx.withTenant(async (tx) => {
      const { request } = await createPrivacyRequest(
        tx,
        privacyActorOf(ctx.principal, ctx),
        { userId: ctx.principal.userId, type: 'deletion' },
        privacyDepsOf(ctx),
      );
      return { request: requestView(request) };
    });
  }),
  myRequests: sessionProcedure
    .meta({ access: signedIn })
    .query(({ ctx }) =>
      ctx.withTenant(
        async (tx) => (await listOwnPrivacyRequests(tx, ctx.principal.userId)).map(requestView),
        { readOnly: true },
      ),
    ),
  // Any session reaches the service, which answers "not found" unless the caller is the subject
  // or compliance staff; keys need privacy:read. Creating a link is audited.
  exportDownload: tenantProcedure
    .meta({ access: { permission: 'self', scope: 'privacy:read' } })
    .input(exportDownloadInput)
    .output(exportDownloadOutput)
    .query(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        createExportDownloadLink(tx, privacyActorOf(ctx.principal, ctx), input.requestId, {
          now: ctx.now(),
          publicUrl: ctx.services.accounts.publicUrl,
        }),
      ),
    ),
  webhooks: privacyWebhooksRouter,
});
