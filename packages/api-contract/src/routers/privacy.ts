/**
 * privacy.* (DESIGN public contract): a signed-in subject asks for an export or the erasure of
 * their data and follows their requests; the subject or compliance staff get a short-lived
 * download link for a finished export. Logic lives in @tessera/auth/privacy; bodies only bind
 * the caller and its tenant transaction.
 */
import {
  createExportDownloadLink, createPrivacyRequest, listOwnPrivacyRequests, requestView, type PrivacyActor,
} from '@tessera/auth/privacy';
import type { Keyring } from '@tessera/auth';
import type { Context, Principal } from '../context.js';
import { exportDownloadInput, requestExportInput } from '../inputs/privacy.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { router, sessionProcedure, tenantProcedure } from '../trpc.js';

/** The principal as the privacy service sees it (also used by the compliance router). */
export function privacyActorOf(principal: Principal, ctx: Pick<Context, 'meta'>): PrivacyActor {
  const origin = { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
  return principal.kind === 'session' ? { type: 'user', id: principal.userId, role: principal.role, ...origin } : { type: 'api_key', id: principal.keyId, ...origin };
}

export function privacyDepsOf(ctx: Pick<Context, 'services' | 'now'>): { keyring: Keyring; now: Date } {
  return { keyring: ctx.services.accounts.keyring, now: ctx.now() };
}

const signedIn = {} as const;

export const privacyRouter = router({
  requestExport: sessionProcedure.meta({ access: signedIn }).input(requestExportInput).mutation(({ ctx, input }) =>
    ctx.withTenant(async (tx) => {
      const { request } = await createPrivacyRequest(tx, privacyActorOf(ctx.principal, ctx), { userId: ctx.principal.userId, type: 'export', format: input.format }, privacyDepsOf(ctx));
      return { request: requestView(request) };
    })),
  requestDeletion: sessionProcedure.meta({ access: signedIn }).mutation(({ ctx }) => {
    assertRecentMfa(ctx.principal, ctx.now());
    return ctx.withTenant(async (tx) => {
      const { request } = await createPrivacyRequest(tx, privacyActorOf(ctx.principal, ctx), { userId: ctx.principal.userId, type: 'deletion' }, privacyDepsOf(ctx));
      return { request: requestView(request) };
    });
  }),
  myRequests: sessionProcedure.meta({ access: signedIn }).query(({ ctx }) =>
    ctx.withTenant(async (tx) => (await listOwnPrivacyRequests(tx, ctx.principal.userId)).map(requestView), { readOnly: true })),
  // Any session reaches the service, which answers "not found" unless the caller is the subject
  // or compliance staff; keys need privacy:read. Creating a link is audited.
  exportDownload: tenantProcedure.meta({ access: { scope: 'privacy:read' } }).input(exportDownloadInput).query(({ ctx, input }) =>
    ctx.withTenant((tx) => createExportDownloadLink(tx, privacyActorOf(ctx.principal, ctx), input.requestId, { now: ctx.now(), publicUrl: ctx.services.accounts.publicUrl }))),
});
