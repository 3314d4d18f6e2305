import { beginEnrollment, confirmEnrollment, disableMfa, mfaStatus, regenerateBackupCodes, verifyCodeForSession } from '@tessera/auth/mfa';
import { disableMfaInput, mfaCodeInput } from '../inputs/mfa.js';
import { requestOf, router, sessionProcedure } from '../trpc.js';

const enrolling = { access: {}, allowEnrollmentOnly: true } as const;

export const mfaRouter = router({
  status: sessionProcedure.meta(enrolling).query(({ ctx }) => ctx.withTenant((tx) => mfaStatus(tx, ctx.principal.userId), { readOnly: true })),
  beginEnrollment: sessionProcedure.meta(enrolling).mutation(({ ctx }) => beginEnrollment(ctx.db, ctx.services.accounts, ctx.principal, ctx.now())),
  confirmEnrollment: sessionProcedure.meta(enrolling).input(mfaCodeInput).mutation(async ({ ctx, input }) => {
    const { backupCodes, session } = await confirmEnrollment(ctx.db, ctx.services.accounts, ctx.principal, input.code, requestOf(ctx), ctx.now());
    ctx.cookies.set(session.token, session.expiresAt);
    return { backupCodes };
  }),
  regenerateBackupCodes: sessionProcedure.meta({ access: {} }).input(mfaCodeInput).mutation(async ({ ctx, input }) => ({
    backupCodes: await regenerateBackupCodes(ctx.db, ctx.services.accounts, ctx.principal, input.code, requestOf(ctx), ctx.now()),
  })),
  disable: sessionProcedure.meta({ access: {} }).input(disableMfaInput).mutation(async ({ ctx, input }) => {
    await disableMfa(ctx.db, ctx.services.accounts, ctx.principal, input, requestOf(ctx), ctx.now());
    return { ok: true as const };
  }),
  stepUp: sessionProcedure.meta({ access: {} }).input(mfaCodeInput).mutation(async ({ ctx, input }) => {
    await verifyCodeForSession(ctx.db, ctx.services.accounts, ctx.principal, input.code, requestOf(ctx), ctx.now(), 'mfa.step_up');
    return { ok: true as const };
  }),
});
