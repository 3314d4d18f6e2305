import {
  beginEnrollment,
  confirmEnrollment,
  disableMfa,
  mfaStatus,
  regenerateBackupCodes,
  verifyCodeForSession,
  withQrCode,
} from '@tessera/auth/mfa';
import { disableMfaInput, mfaCodeInput } from '../inputs/mfa.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

/** Enrolling is how an enrollment-only session (MFA required, none yet) gets its factor. */
const enrolling = { access: { permission: 'self' }, allowEnrollmentOnly: true } as const;

export const mfaRouter = router({
  status: sessionProcedure
    .meta(enrolling)
    .query(({ ctx }) =>
      ctx.withTenant((tx) => mfaStatus(tx, ctx.principal.userId), { readOnly: true }),
    ),
  // Adding a factor is a factor change: a user who already has one (a passkey) steps up first.
  beginEnrollment: sessionProcedure
    .meta(enrolling)
    .use(requireRecentMfa)
    .mutation(async ({ ctx }) =>
      withQrCode(await ctx.withTenant((tx) => beginEnrollment(tx, actingUseCaseOf(ctx)))),
    ),
  confirmEnrollment: sessionProcedure
    .meta(enrolling)
    .use(requireRecentMfa)
    .input(mfaCodeInput)
    .mutation(async ({ ctx, input }) => {
      const { backupCodes, session } = await ctx.withTenant((tx) =>
        confirmEnrollment(tx, actingUseCaseOf(ctx), input.code),
      );
      if (session) ctx.cookies.set(session.token, session.expiresAt); // first factor: a new token, nothing more
      return { backupCodes };
    }),
  regenerateBackupCodes: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .input(mfaCodeInput)
    .mutation(async ({ ctx, input }) => ({
      backupCodes: await regenerateBackupCodes(actingUseCaseOf(ctx), input.code),
    })),
  disable: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .input(disableMfaInput)
    .mutation(async ({ ctx, input }) => {
      await disableMfa(actingUseCaseOf(ctx), input);
      return { ok: true as const };
    }),
  stepUp: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .input(mfaCodeInput)
    .mutation(async ({ ctx, input }) => {
      await verifyCodeForSession(actingUseCaseOf(ctx), input.code, 'mfa.step_up');
      return { ok: true as const };
    }),
});
