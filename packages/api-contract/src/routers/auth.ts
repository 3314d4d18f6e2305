import { permissionsOf, type Permission } from '@tessera/auth/roles';
import { AuthError } from '@tessera/auth';
import { signInWithRememberedDevice, verifyMfaChallenge } from '@tessera/auth/mfa';
import {
  acceptInvite,
  changePassword,
  confirmEmailChange,
  loadMe,
  requestEmailChange,
  requestEmailVerification,
  requestPasswordReset,
  resetPassword,
  signIn,
  signUp,
  verifyEmail,
} from '@tessera/auth/accounts';
import { signOut } from '@tessera/auth/sessions';
import { verifyMfaInput } from '../inputs/mfa.js';
import {
  acceptInviteInput,
  changePasswordInput,
  confirmEmailChangeInput,
  requestEmailChangeInput,
  verifyEmailInput,
  passwordStrengthInput,
  requestPasswordResetInput,
  resetPasswordInput,
  signInInput,
  signUpInput,
} from '../inputs/auth.js';
import { limitPerIp, publicProcedure, requestOf, router, sessionProcedure } from '../trpc.js';

const anyone = { access: 'public' } as const;
import type { SessionPrincipal } from '../context.js';
import { keptWithSession } from '../principal.js';
import { actingUseCaseOf, useCaseOf } from '../use-case.js';

const signedIn = { access: { permission: 'self' }, allowEnrollmentOnly: true } as const;

type MeView = Awaited<ReturnType<typeof loadMe>>;
/**
 * `auth.me`'s user and tenant, read once per cached session (principal.ts `keptWithSession`):
 * the session cache evicts the session on every committed change to what this view shows (the
 * user's e-mail, display name, role and factors; the tenant's slug and name: migrations 0024 and
 * 0025), in every process within its one-second bound.
 */
const meViews = new WeakMap<SessionPrincipal, Promise<MeView>>();

/** The permission list of a cached session, built once (the cache evicts it on a role change). */
const permissionLists = new WeakMap<SessionPrincipal, Permission[]>();
function permissionListOf(principal: SessionPrincipal): Permission[] {
  let list = permissionLists.get(principal);
  if (!list) {
    list = permissionsOf(principal.role, principal.customRole?.permissions);
    permissionLists.set(principal, list);
  }
  return list;
}

export const authRouter = router({
  signUp: publicProcedure
    .meta(anyone)
    .input(signUpInput)
    .mutation(async ({ ctx, input }) => {
      if (!ctx.services.signupOpen)
        throw new AuthError('forbidden', { detail: 'Sign-up is closed; ask for an invite.' });
      await limitPerIp(ctx, 'sign_up', { max: 10, windowMs: 3_600_000 });
      const { user, tenant, session } = await signUp(
        ctx.db,
        ctx.services.accounts,
        input,
        requestOf(ctx),
        ctx.now(),
      );
      ctx.cookies.set(session.token, session.expiresAt);
      return { user, tenant };
    }),
  signIn: publicProcedure
    .meta(anyone)
    .input(signInInput)
    .mutation(async ({ ctx, input }) => {
      const result = await signIn(ctx.db, ctx.services.accounts, input, requestOf(ctx), ctx.now());
      // A remembered device of this user spares the second step (docs/mfa-factors.md).
      const signedIn =
        result.status === 'mfa_required'
          ? await signInWithRememberedDevice(
              useCaseOf(ctx),
              result.challengeToken,
              ctx.cookies.device?.token,
            )
          : result;
      if (!signedIn) return result; // no cookie until the second step
      ctx.cookies.set(signedIn.session.token, signedIn.session.expiresAt);
      return { status: signedIn.status, user: signedIn.user };
    }),
  verifyMfa: publicProcedure
    .meta(anyone)
    .input(verifyMfaInput)
    .mutation(async ({ ctx, input }) => {
      const challengeToken = input.challengeToken ?? ctx.mfaChallengeCookie ?? '';
      const result = await verifyMfaChallenge(
        ctx.db,
        ctx.services.accounts,
        { challengeToken, code: input.code, rememberDevice: input.rememberDevice },
        requestOf(ctx),
        ctx.now(),
      );
      ctx.cookies.set(result.session.token, result.session.expiresAt);
      if (result.device) ctx.cookies.device?.set(result.device.token, result.device.expiresAt);
      return { status: result.status, user: result.user };
    }),
  signOut: sessionProcedure.meta(signedIn).mutation(async ({ ctx }) => {
    await ctx.withTenant((tx) => signOut(tx, actingUseCaseOf(ctx)));
    ctx.cookies.clear();
    return { ok: true as const };
  }),
  me: sessionProcedure.meta(signedIn).query(async ({ ctx }) => {
    const { user, tenant } = await keptWithSession(meViews, ctx.principal, () =>
      ctx.withTenant((tx) => loadMe(tx, ctx.principal.userId), { readOnly: true }),
    );
    const { sessionId, aal, expiresAt, customRole } = ctx.principal;
    return {
      user,
      tenant,
      session: { id: sessionId, aal, expiresAt: expiresAt.toISOString() },
      // What the console may offer (docs/roles.md); from the session, no extra statement.
      permissions: permissionListOf(ctx.principal),
      customRoleId: customRole?.id ?? null,
    };
  }),
  changePassword: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .input(changePasswordInput)
    .mutation(async ({ ctx, input }) => {
      await changePassword(actingUseCaseOf(ctx), input);
      return { ok: true as const };
    }),
  requestPasswordReset: publicProcedure
    .meta(anyone)
    .input(requestPasswordResetInput)
    .mutation(async ({ ctx, input }) => {
      await requestPasswordReset(ctx.db, ctx.services.accounts, input, requestOf(ctx), ctx.now());
      return { ok: true as const };
    }),
  resetPassword: publicProcedure
    .meta(anyone)
    .input(resetPasswordInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'reset_password', { max: 20, windowMs: 3_600_000 });
      await resetPassword(ctx.db, ctx.services.accounts, input, requestOf(ctx), ctx.now());
      return { ok: true as const };
    }),
  passwordStrength: publicProcedure
    .meta(anyone)
    .input(passwordStrengthInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'password_strength', { max: 60, windowMs: 60_000 });
      const context = {
        minLength: 15,
        ...(input.email ? { email: input.email } : {}),
        ...(input.tenantSlug ? { tenantSlug: input.tenantSlug } : {}),
      };
      return ctx.services.accounts.passwords.strength(input.password, context);
    }),
  requestEmailVerification: sessionProcedure
    .meta(signedIn)
    .mutation(({ ctx }) =>
      ctx.withTenant((tx) => requestEmailVerification(tx, actingUseCaseOf(ctx))),
    ),
  verifyEmail: publicProcedure
    .meta(anyone)
    .input(verifyEmailInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'verify_email', { max: 20, windowMs: 3_600_000 });
      await verifyEmail(ctx.db, input, requestOf(ctx), ctx.now());
      return { ok: true as const };
    }),
  requestEmailChange: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .input(requestEmailChangeInput)
    .mutation(async ({ ctx, input }) => {
      await requestEmailChange(actingUseCaseOf(ctx), input);
      return { ok: true as const };
    }),
  confirmEmailChange: publicProcedure
    .meta(anyone)
    .input(confirmEmailChangeInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'confirm_email_change', { max: 20, windowMs: 3_600_000 });
      await confirmEmailChange(ctx.db, ctx.services.accounts, input, requestOf(ctx), ctx.now());
      return { ok: true as const };
    }),
  acceptInvite: publicProcedure
    .meta(anyone)
    .input(acceptInviteInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'accept_invite', { max: 20, windowMs: 3_600_000 });
      const result = await acceptInvite(
        ctx.db,
        ctx.services.accounts,
        input,
        requestOf(ctx),
        ctx.now(),
      );
      ctx.cookies.set(result.session.token, result.session.expiresAt);
      return { user: result.user };
    }),
});
