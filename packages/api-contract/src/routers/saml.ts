/**
 * SAML connections (docs/sso.md "SAML"), mounted as `tenant.saml`: `list` (owners and admins),
 * `create`, `update`, `delete` (step-up; fields that decide whom the IdP may sign in as are
 * owner-only, in the domain). The protocol routes (start, ACS, SP metadata) are in the API's
 * SAML plugin.
 */
import {
  deleteSamlConnection,
  listSamlConnections,
  prepareSamlConnection,
  saveSamlConnection,
  type SamlDeps,
} from '@tessera/auth/sso';
import type { Context } from '../context.js';
import {
  createSamlConnectionInput,
  samlConnectionIdInput,
  updateSamlConnectionInput,
} from '../inputs/saml.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';
import { ssoServicesOf } from './sso.js';

function depsOf(ctx: Context): SamlDeps {
  return {
    publicUrl: ctx.services.accounts.publicUrl,
    outbound: ssoServicesOf(ctx).outbound,
  };
}

const read = { access: { permission: 'saml:read' } } as const;
const manage = { access: { permission: 'saml:write' } } as const;
const owner = { access: { permission: 'saml:manage' } } as const;

export const samlRouter = router({
  list: sessionProcedure
    .meta(read)
    .query(({ ctx }) =>
      ctx.withTenant(
        (tx) => listSamlConnections(tx, { ...actingUseCaseOf(ctx), deps: depsOf(ctx) }),
        { readOnly: true },
      ),
    ),
  // A new IdP, new certificates, trusting its addresses or MFA: each hands out sign-ins.
  create: sessionProcedure
    .meta(owner)
    .use(requireRecentMfa)
    .input(createSamlConnectionInput)
    .mutation(async ({ ctx, input }) => {
      const uc = { ...actingUseCaseOf(ctx), deps: depsOf(ctx) };
      const change = await prepareSamlConnection(uc, null, input); // metadata fetched first
      return ctx.withTenant((tx) => saveSamlConnection(tx, uc, change));
    }),
  update: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(updateSamlConnectionInput)
    .mutation(async ({ ctx, input: { id, ...patch } }) => {
      const uc = { ...actingUseCaseOf(ctx), deps: depsOf(ctx) };
      const change = await prepareSamlConnection(uc, id, patch); // metadata fetched first
      return ctx.withTenant((tx) => saveSamlConnection(tx, uc, change));
    }),
  delete: sessionProcedure
    .meta(owner)
    .use(requireRecentMfa)
    .input(samlConnectionIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => deleteSamlConnection(tx, actingUseCaseOf(ctx), input.id));
      return { ok: true as const };
    }),
});
