/**
 * Passkeys: register several per user, name and remove them, sign in with one as a
 * second factor or (tenant policy `passkeyPasswordless`) without a password, and step up with
 * one. Logic lives in @tessera/auth/passkeys; docs/passkeys.md has the design.
 */
import {
  listPasskeys,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  passkeyStepUpOptions,
  removePasskey,
  renamePasskey,
  signInWithPasskey,
  stepUpWithPasskey,
  verifyPasskeyRegistration,
} from '@tessera/auth/passkeys';
import {
  passkeyOptionsInput,
  passkeyStepUpInput,
  removePasskeyInput,
  renamePasskeyInput,
  verifyPasskeyRegistrationInput,
  verifyPasskeySignInInput,
} from '../inputs/passkeys.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { publicProcedure, requestOf, router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

const anyone = { access: 'public' } as const;
/** Registering is how an enrollment-only session (MFA required, none yet) gets its factor. */
const enrolling = { access: { permission: 'self' }, allowEnrollmentOnly: true } as const;
const signedIn = { access: { permission: 'self' } } as const;

export const passkeysRouter = router({
  list: sessionProcedure
    .meta(enrolling)
    .query(({ ctx }) =>
      ctx.withTenant((tx) => listPasskeys(tx, ctx.principal.userId), { readOnly: true }),
    ),
  // Adding a factor is a factor change: a user who already has one steps up first.
  registrationOptions: sessionProcedure
    .meta(enrolling)
    .use(requireRecentMfa)
    .mutation(({ ctx }) =>
      ctx.withTenant((tx) => passkeyRegistrationOptions(tx, actingUseCaseOf(ctx))),
    ),
  verifyRegistration: sessionProcedure
    .meta(enrolling)
    .use(requireRecentMfa)
    .input(verifyPasskeyRegistrationInput)
    .mutation(async ({ ctx, input }) => {
      const { passkey, session } = await verifyPasskeyRegistration(actingUseCaseOf(ctx), input);
      if (session) ctx.cookies.set(session.token, session.expiresAt); // first factor: a new token, nothing more
      return { passkey };
    }),
  rename: sessionProcedure
    .meta(signedIn)
    .input(renamePasskeyInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) => renamePasskey(tx, ctx.principal, input, requestOf(ctx), ctx.now())),
    ),
  remove: sessionProcedure
    .meta(signedIn)
    .use(requireRecentMfa)
    .input(removePasskeyInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => removePasskey(tx, actingUseCaseOf(ctx), input.id));
      return { ok: true as const };
    }),
  authenticationOptions: publicProcedure
    .meta(anyone)
    .input(passkeyOptionsInput)
    .mutation(({ ctx, input }) => {
      const { tenantSlug, challengeToken } = input as {
        tenantSlug?: string;
        challengeToken?: string;
      };
      const target =
        tenantSlug !== undefined
          ? { tenantSlug }
          : { challengeToken: challengeToken ?? ctx.mfaChallengeCookie ?? '' };
      return passkeySignInOptions(ctx.db, ctx.services.accounts, target, requestOf(ctx), ctx.now());
    }),
  verifyAuthentication: publicProcedure
    .meta(anyone)
    .input(verifyPasskeySignInInput)
    .mutation(async ({ ctx, input }) => {
      const challengeToken =
        input.tenantSlug === undefined
          ? (input.challengeToken ?? ctx.mfaChallengeCookie ?? '')
          : undefined;
      const result = await signInWithPasskey(
        ctx.db,
        ctx.services.accounts,
        { ...input, challengeToken },
        requestOf(ctx),
        ctx.now(),
      );
      ctx.cookies.set(result.session.token, result.session.expiresAt);
      return { status: result.status, user: result.user };
    }),
  stepUpOptions: sessionProcedure
    .meta(signedIn)
    .mutation(({ ctx }) => ctx.withTenant((tx) => passkeyStepUpOptions(tx, actingUseCaseOf(ctx)))),
  stepUp: sessionProcedure
    .meta(signedIn)
    .input(passkeyStepUpInput)
    .mutation(async ({ ctx, input }) => {
      await stepUpWithPasskey(actingUseCaseOf(ctx), input.response);
      return { ok: true as const };
    }),
});
