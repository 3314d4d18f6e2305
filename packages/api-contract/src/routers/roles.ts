// Tenant-defined roles (docs/roles.md): tenant admins list, create, edit and delete them. Every
// change needs step-up, follows the escalation rule (nobody grants what they do not hold), is
// audited with before/after, and reaches the members' sessions at their next request.
import type { PERMISSIONS } from '@tessera/auth/roles';
import {
  createRole,
  CUSTOM_ROLE_PERMISSIONS,
  deleteRole,
  listRoles,
  PERMISSION_DESCRIPTIONS,
  updateRole,
} from '@tessera/auth/roles';
import { createRoleInput, roleIdInput, updateRoleInput, type permission } from '../inputs/roles.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import type { Same } from '../outputs/common.js';
import { router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

// The wire enum and the domain vocabulary must not drift: each fails to compile without the other.
const permissionsAgree: Same<(typeof permission.options)[number], (typeof PERMISSIONS)[number]> =
  true;
void permissionsAgree;

const read = { access: { permission: 'roles:read' } } as const;
const write = { access: { permission: 'roles:write' } } as const;

export const rolesRouter = router({
  list: sessionProcedure.meta(read).query(async ({ ctx }) => ({
    roles: await ctx.withTenant((tx) => listRoles(tx), { readOnly: true }),
    // What a custom role may carry: the identity-control permissions stay with owner and admin.
    permissions: CUSTOM_ROLE_PERMISSIONS.map((name) => ({
      name,
      description: PERMISSION_DESCRIPTIONS[name],
    })),
  })),
  create: sessionProcedure
    .meta(write)
    .use(requireRecentMfa)
    .input(createRoleInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) => createRole(tx, actingUseCaseOf(ctx), input)),
    ),
  update: sessionProcedure
    .meta(write)
    .use(requireRecentMfa)
    .input(updateRoleInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => updateRole(tx, actingUseCaseOf(ctx), input));
      return { ok: true as const };
    }),
  delete: sessionProcedure
    .meta(write)
    .use(requireRecentMfa)
    .input(roleIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => deleteRole(tx, actingUseCaseOf(ctx), input.id));
      return { ok: true as const };
    }),
});
