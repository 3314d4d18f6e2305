/**
 * oidc.* (docs/oidc-provider.md): the console's side of the tenant's OpenID Provider. Owners and
 * admins, signed in (no API key: a key must not mint a credential of another kind), register and
 * revoke apps and rotate the signing key; registering an app (it may get a secret) and rotating the
 * key are step-up territory for users who have MFA. Every user lists and revokes the apps they
 * authorised. Every change is audited by the service.
 */
import {
  createOidcClient,
  generateSigningKey,
  listAuthorizedApps,
  listOidcClients,
  listSigningKeys,
  revokeAuthorizedApp,
  revokeOidcClient,
  rotateSigningKey,
  type OidcUserActor,
} from '@tessera/auth/oidc';
import type { Context } from '../context.js';
import { authorizedAppInput, createOidcClientInput, oidcClientIdInput } from '../inputs/oidc.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { requestOf, router, sessionProcedure } from '../trpc.js';

const read = { permission: 'oidc:read' } as const;
const admins = { permission: 'oidc:write' } as const;
const own = { permission: 'self' } as const;
/** A new key signs after every API node's provider has published it (their 30-second refresh, twice). */
const KEY_ACTIVATION_SECONDS = 60;

function actorOf(ctx: Context & { principal: { userId: string } }): OidcUserActor {
  return { userId: ctx.principal.userId, origin: requestOf(ctx) };
}

export const oidcRouter = router({
  listClients: sessionProcedure
    .meta({ access: read })
    .query(({ ctx }) => ctx.withTenant((tx) => listOidcClients(tx), { readOnly: true })),
  createClient: sessionProcedure
    .meta({ access: admins })
    .input(createOidcClientInput)
    .mutation(({ ctx, input }) => {
      assertRecentMfa(ctx.principal, ctx.now());
      return ctx.withTenant((tx) => createOidcClient(tx, actorOf(ctx), input, ctx.now()));
    }),
  revokeClient: sessionProcedure
    .meta({ access: admins })
    .input(oidcClientIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => revokeOidcClient(tx, actorOf(ctx), input.id, ctx.now()));
      return { ok: true as const };
    }),
  listSigningKeys: sessionProcedure
    .meta({ access: read })
    .query(({ ctx }) => ctx.withTenant((tx) => listSigningKeys(tx, ctx.now()), { readOnly: true })),
  rotateSigningKey: sessionProcedure.meta({ access: admins }).mutation(async ({ ctx }) => {
    assertRecentMfa(ctx.principal, ctx.now());
    const key = await generateSigningKey(); // CPU work before the transaction opens
    return ctx.withTenant((tx) =>
      rotateSigningKey(tx, actorOf(ctx), {
        key,
        keyring: ctx.services.accounts.keyring,
        now: ctx.now(),
        activateAfterSeconds: KEY_ACTIVATION_SECONDS,
      }),
    );
  }),
  myApps: sessionProcedure
    .meta({ access: own })
    .query(({ ctx }) =>
      ctx.withTenant((tx) => listAuthorizedApps(tx, ctx.principal.userId), { readOnly: true }),
    ),
  revokeMyApp: sessionProcedure
    .meta({ access: own })
    .input(authorizedAppInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) =>
        revokeAuthorizedApp(tx, actorOf(ctx), input.clientId, ctx.now()),
      );
      return { ok: true as const };
    }),
});
