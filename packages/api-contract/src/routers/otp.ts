import { AuthError } from '@tessera/auth';
import {
  beginSmsEnrollment,
  challengeOptions,
  confirmSmsEnrollment,
  disableEmailCodes,
  disableSms,
  enableEmailCodes,
  otpStatus,
  sendSignInCode,
} from '@tessera/auth/mfa';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import {
  beginSmsEnrollmentInput,
  challengeOptionsInput,
  oneTimeCodeInput,
  sendCodeInput,
} from '../inputs/otp.js';
import { publicProcedure, router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf, useCaseOf } from '../use-case.js';

const own = { access: { permission: 'self' } } as const;

/** Out-of-band one-time codes (docs/mfa-factors.md): SMS as a restricted second factor; e-mail codes as new-device sign-in verification (not MFA). */
export const otpRouter = router({
  status: sessionProcedure.meta(own).query(({ ctx }) =>
    ctx.withTenant((tx) => otpStatus(tx, ctx.principal.userId, ctx.services.sms), {
      readOnly: true,
    }),
  ),
  // Adding or removing a phone number is a factor change (step-up at every step, as for passkeys).
  beginSmsEnrollment: sessionProcedure
    .meta(own)
    .use(requireRecentMfa)
    .input(beginSmsEnrollmentInput)
    .mutation(async ({ ctx, input }) => {
      const sent = await beginSmsEnrollment(actingUseCaseOf(ctx), ctx.services.sms, input.phone);
      return { phoneHint: sent.phoneHint, expiresAt: sent.expiresAt.toISOString() };
    }),
  confirmSmsEnrollment: sessionProcedure
    .meta(own)
    .use(requireRecentMfa)
    .input(oneTimeCodeInput)
    .mutation(async ({ ctx, input }) => {
      await confirmSmsEnrollment(actingUseCaseOf(ctx), input.code);
      return { ok: true as const };
    }),
  disableSms: sessionProcedure
    .meta(own)
    .use(requireRecentMfa)
    .mutation(async ({ ctx }) => {
      await ctx.withTenant((tx) => disableSms(tx, actingUseCaseOf(ctx)));
      return { ok: true as const };
    }),
  /** E-mailed codes when signing in from a new device: opt-in, only where the tenant allows them; never MFA. */
  enableEmail: sessionProcedure.meta(own).mutation(async ({ ctx }) => {
    await ctx.withTenant((tx) => enableEmailCodes(tx, actingUseCaseOf(ctx)));
    return { ok: true as const };
  }),
  disableEmail: sessionProcedure.meta(own).mutation(async ({ ctx }) => {
    await ctx.withTenant((tx) => disableEmailCodes(tx, actingUseCaseOf(ctx)));
    return { ok: true as const };
  }),
  /** What the second sign-in step may offer (a mutation: its input is a secret token). */
  challengeOptions: publicProcedure
    .meta({ access: 'public' })
    .input(challengeOptionsInput)
    .mutation(({ ctx, input }) =>
      challengeOptions(
        useCaseOf(ctx),
        ctx.services.sms,
        input.challengeToken ?? ctx.mfaChallengeCookie ?? '',
      ),
    ),
  /** Texts a code for a pending sign-in challenge; e-mail codes never serve as a second factor (docs/design.md "MFA"). */
  sendCode: publicProcedure
    .meta({ access: 'public' })
    .input(sendCodeInput)
    .mutation(async ({ ctx, input }) => {
      if (input.channel === 'email')
        throw new AuthError('forbidden', {
          detail: 'E-mail codes cannot be used as a second factor.',
        });
      const challengeToken = input.challengeToken ?? ctx.mfaChallengeCookie ?? '';
      const sent = await sendSignInCode(useCaseOf(ctx), ctx.services.sms, challengeToken);
      return {
        channel: 'sms' as const,
        phoneHint: sent.phoneHint,
        expiresAt: sent.expiresAt.toISOString(),
      };
    }),
});
