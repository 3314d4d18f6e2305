import {
  disableUser,
  importLegacyUsers,
  inviteUser,
  listUsers,
  setUserRole,
  unlockUser,
} from '@tessera/auth/accounts';
import {
  importLegacyInput,
  inviteUserInput,
  listUsersInput,
  setRoleInput,
  userIdInput,
} from '../inputs/users.js';
import { router, sessionProcedure, tenantProcedure } from '../trpc.js';
import { resetUserMfa } from '@tessera/auth/mfa';
import { assertRecentMfa, requireRecentMfa } from '../middleware/require-recent-mfa.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import { listUsersOutput } from '../outputs/users.js';
import { actingUseCaseOf } from '../use-case.js';

// The output schema describes exactly what the service returns (REST face, OpenAPI document).
const listAgrees: Same<
  z.output<typeof listUsersOutput>,
  Awaited<ReturnType<typeof listUsers>>
> = true;
void listAgrees;

const admins = { permission: 'users:write' } as const;

export const usersRouter = router({
  list: tenantProcedure
    .meta({ access: { permission: 'users:read', scope: 'users:read' } })
    .input(listUsersInput)
    .output(listUsersOutput)
    .query(({ ctx, input }) =>
      ctx.withTenant((tx) => listUsers(tx, input ?? {}), { readOnly: true, singleStatement: true }),
    ),
  invite: sessionProcedure
    .meta({ access: admins })
    .input(inviteUserInput)
    .mutation(({ ctx, input }) => {
      // Any role above member grants privilege (compliance reads everyone's personal data and the
      // audit log), and so does a custom role (docs/roles.md).
      if (input.role !== 'member' || input.customRoleId) assertRecentMfa(ctx.principal, ctx.now());
      return ctx.withTenant((tx) => inviteUser(tx, actingUseCaseOf(ctx), input));
    }),
  setRole: sessionProcedure
    .meta({ access: admins })
    .use(requireRecentMfa)
    .input(setRoleInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => setUserRole(tx, actingUseCaseOf(ctx), input));
      return { ok: true as const };
    }),
  disable: sessionProcedure
    .meta({ access: admins })
    .input(userIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => disableUser(tx, actingUseCaseOf(ctx), input));
      return { ok: true as const };
    }),
  // Creates accounts that sign in with passwords the caller supplied (no mail round trip), owners included.
  importLegacy: sessionProcedure
    .meta({ access: { permission: 'users:import' } })
    .use(requireRecentMfa)
    .input(importLegacyInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        importLegacyUsers(
          tx,
          { type: 'user', id: ctx.principal.userId, isOwner: true },
          input.users,
          ctx.now(),
        ),
      ),
    ),
  resetMfa: sessionProcedure
    .meta({ access: admins })
    .use(requireRecentMfa)
    .input(userIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => resetUserMfa(tx, actingUseCaseOf(ctx), input.userId));
      return { ok: true as const };
    }),
  unlock: sessionProcedure
    .meta({ access: admins })
    .input(userIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => unlockUser(tx, actingUseCaseOf(ctx), input));
      return { ok: true as const };
    }),
});
