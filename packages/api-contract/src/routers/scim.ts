/**
 * scim.* (docs/scim.md): the console's side of SCIM provisioning. Owners and admins, signed in (no
 * API key: a key must not be able to mint a credential of another kind), create and revoke the
 * bearer tokens identity providers present on /scim/v2, choose what a SCIM DELETE does, and map
 * directory groups to roles. Minting a token, choosing erasure and mapping a group to a role are
 * step-up territory for users who have MFA. Every change is audited by the service.
 */
import { assertMayAssign, BUILT_IN_ROLE_PERMISSIONS } from '@tessera/auth/roles';
import { actorOf } from '../use-case.js';
import {
  createScimToken,
  getScimSettings,
  listScimGroupSummaries,
  listScimTokens,
  revokeScimToken,
  setScimGroupRole,
  updateScimSettings,
  type ScimAdmin,
} from '@tessera/auth/scim';
import type { Context } from '../context.js';
import {
  createScimTokenInput,
  scimTokenIdInput,
  setScimGroupRoleInput,
  updateScimSettingsInput,
} from '../inputs/scim.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { requestOf, router, sessionProcedure } from '../trpc.js';

const read = { permission: 'scim:read' } as const;
const admins = { permission: 'scim:write' } as const;

function adminOf(ctx: Context & { principal: { userId: string } }): ScimAdmin {
  return { userId: ctx.principal.userId, origin: requestOf(ctx) };
}

export const scimRouter = router({
  createToken: sessionProcedure
    .meta({ access: admins })
    .input(createScimTokenInput)
    .mutation(({ ctx, input }) => {
      assertRecentMfa(ctx.principal, ctx.now());
      return ctx.withTenant((tx) =>
        createScimToken(tx, adminOf(ctx), input, ctx.services.apiKeys.peppers, ctx.now()),
      );
    }),
  listTokens: sessionProcedure
    .meta({ access: read })
    .query(({ ctx }) => ctx.withTenant((tx) => listScimTokens(tx), { readOnly: true })),
  revokeToken: sessionProcedure
    .meta({ access: admins })
    .input(scimTokenIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => revokeScimToken(tx, adminOf(ctx), input.id, ctx.now()));
      return { ok: true as const };
    }),
  settings: sessionProcedure
    .meta({ access: read })
    .query(({ ctx }) => ctx.withTenant((tx) => getScimSettings(tx), { readOnly: true })),
  updateSettings: sessionProcedure
    .meta({ access: admins })
    .input(updateScimSettingsInput)
    .mutation(({ ctx, input }) => {
      if (input.deleteAction === 'erase') assertRecentMfa(ctx.principal, ctx.now());
      return ctx.withTenant((tx) => updateScimSettings(tx, adminOf(ctx), input, ctx.now()));
    }),
  listGroups: sessionProcedure
    .meta({ access: read })
    .query(({ ctx }) => ctx.withTenant((tx) => listScimGroupSummaries(tx), { readOnly: true })),
  setGroupRole: sessionProcedure
    .meta({ access: admins })
    .input(setScimGroupRoleInput)
    .mutation(async ({ ctx, input }) => {
      // Mapping a group to a role hands that role to its members: like users.setRole.
      if (input.role !== null) {
        assertRecentMfa(ctx.principal, ctx.now());
        // Nobody hands out, through the directory, a role wider than their own (docs/roles.md).
        assertMayAssign(
          actorOf(ctx.principal),
          { role: input.role, custom: false },
          BUILT_IN_ROLE_PERMISSIONS[input.role],
        );
      }
      await ctx.withTenant((tx) => setScimGroupRole(tx, adminOf(ctx), input, ctx.now()));
      return { ok: true as const };
    }),
});
