/**
 * Single sign-on settings and linked identities (docs/sso.md). Mounted as `tenant.sso`:
 * `tenant.sso.get`, `tenant.sso.update` (owners and admins; connection fields owner-only, audited),
 * `tenant.sso.signInOptions` (public: the buttons of a tenant's sign-in page), and
 * `tenant.sso.identities.list` / `.unlink` for the signed-in user (also exported on its own).
 */
import {
  checkSsoSettingsPatch,
  getSsoSettings,
  listIdentities,
  listSignInOptions,
  unlinkIdentity,
  updateSsoSettings,
  type SsoDeps,
} from '@tessera/auth/sso';
import type { Context, Services } from '../context.js';
import {
  ssoSignInOptionsInput,
  unlinkIdentityInput,
  updateSsoSettingsInput,
} from '../inputs/sso.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { publicProcedure, router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf, actorOf } from '../use-case.js';

export type SsoServices = NonNullable<Services['sso']>;

/** Without `services.sso`, fail safe: the production outbound rule and no platform providers. */
export function ssoServicesOf(ctx: Pick<Context, 'services'>): SsoServices {
  return ctx.services.sso ?? { outbound: { mode: 'production' }, platformProviders: [] };
}

function depsOf(ctx: Context): SsoDeps {
  const sso = ssoServicesOf(ctx);
  return {
    keyring: ctx.services.accounts.keyring,
    publicUrl: ctx.services.accounts.publicUrl,
    outbound: sso.outbound,
    platformProviders: sso.platformProviders,
  };
}

const read = { access: { permission: 'sso:read' } } as const;
const manage = { access: { permission: 'sso:write' } } as const;
const own = { access: { permission: 'self' } } as const;

export const identitiesRouter = router({
  list: sessionProcedure
    .meta(own)
    .query(({ ctx }) =>
      ctx.withTenant(
        (tx) => listIdentities(tx, actorOf(ctx.principal), ssoServicesOf(ctx).platformProviders),
        { readOnly: true },
      ),
    ),
  unlink: sessionProcedure
    .meta(own)
    .input(unlinkIdentityInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) =>
        unlinkIdentity(
          tx,
          actingUseCaseOf(ctx),
          input.identityId,
          ssoServicesOf(ctx).platformProviders,
        ),
      );
      return { ok: true as const };
    }),
});

export const ssoRouter = router({
  get: sessionProcedure
    .meta(read)
    .query(({ ctx }) =>
      ctx.withTenant((tx) => getSsoSettings(tx, depsOf(ctx)), { readOnly: true }),
    ),
  // Another issuer, trusting its MFA, JIT accounts: each hands out sign-ins, so every change needs step-up.
  update: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(updateSsoSettingsInput)
    .mutation(async ({ ctx, input }) => {
      const uc = { ...actingUseCaseOf(ctx), deps: depsOf(ctx) };
      const patch = await checkSsoSettingsPatch(uc, input); // the issuer's DNS, before the transaction
      return ctx.withTenant((tx) => updateSsoSettings(tx, uc, patch));
    }),
  signInOptions: publicProcedure
    .meta({ access: 'public' })
    .input(ssoSignInOptionsInput)
    .query(({ ctx, input }) =>
      listSignInOptions(
        ctx.db,
        ssoServicesOf(ctx).platformProviders,
        ctx.services.accounts.publicUrl,
        input.tenantSlug,
      ),
    ),
  identities: identitiesRouter,
});
