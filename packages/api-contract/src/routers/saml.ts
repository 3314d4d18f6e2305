/**
 * SAML connections (docs/sso.md "SAML"), mounted as `tenant.saml`: `list` (owners and admins),
 * `create`, `update`, `delete` (step-up; fields that decide whom the IdP may sign in as are
 * owner-only, in the domain). The protocol routes (start, ACS, SP metadata) are in the API's
 * SAML plugin.
 */
import {
  deleteSamlConnection,
  listSamlConnections,
  saveSamlConnection,
  type SamlDeps,
} from '@tessera/auth/sso';
import type { Context, SessionPrincipal } from '../context.js';
import {
  createSamlConnectionInput,
  samlConnectionIdInput,
  updateSamlConnectionInput,
} from '../inputs/saml.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { requestOf, router, sessionProcedure } from '../trpc.js';
import { ssoServicesOf } from './sso.js';

function depsOf(ctx: Context): SamlDeps {
  return {
    publicUrl: ctx.services.accounts.publicUrl,
    outbound: ssoServicesOf(ctx).outbound,
  };
}

const actorOf = (p: SessionPrincipal) => ({
  tenantId: p.tenantId,
  userId: p.userId,
  role: p.role,
  customPermissions: p.customRole?.permissions,
  sessionId: p.sessionId,
});
const read = { access: { permission: 'saml:read' } } as const;
const manage = { access: { permission: 'saml:write' } } as const;
const owner = { access: { permission: 'saml:manage' } } as const;

export const samlRouter = router({
  list: sessionProcedure
    .meta(read)
    .query(({ ctx }) => listSamlConnections(ctx.db, depsOf(ctx), actorOf(ctx.principal))),
  // A new IdP, new certificates, trusting its addresses or MFA: each hands out sign-ins.
  create: sessionProcedure
    .meta(owner)
    .use(requireRecentMfa)
    .input(createSamlConnectionInput)
    .mutation(({ ctx, input }) =>
      saveSamlConnection(
        ctx.db,
        depsOf(ctx),
        actorOf(ctx.principal),
        null,
        input,
        requestOf(ctx),
        ctx.now(),
      ),
    ),
  update: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(updateSamlConnectionInput)
    .mutation(({ ctx, input: { id, ...patch } }) =>
      saveSamlConnection(
        ctx.db,
        depsOf(ctx),
        actorOf(ctx.principal),
        id,
        patch,
        requestOf(ctx),
        ctx.now(),
      ),
    ),
  delete: sessionProcedure
    .meta(owner)
    .use(requireRecentMfa)
    .input(samlConnectionIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteSamlConnection(
        ctx.db,
        actorOf(ctx.principal),
        input.id,
        requestOf(ctx),
        ctx.now(),
      );
      return { ok: true as const };
    }),
});
