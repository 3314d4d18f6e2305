import { listSessions, revokeOtherSessions, revokeOwnSession } from '@tessera/auth/sessions';
import { tenantPolicyOf } from '@tessera/auth/tenants';
import { revokeAllRememberedDevices } from '@tessera/auth/mfa';
import { revokeSessionInput } from '../inputs/users.js';
import { router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

const own = { access: { permission: 'self' }, allowEnrollmentOnly: true } as const;

export const sessionsRouter = router({
  list: sessionProcedure.meta(own).query(async ({ ctx }) => {
    return ctx.withTenant(
      async (tx) =>
        listSessions(
          tx,
          (await tenantPolicyOf(tx)).policy,
          ctx.principal.userId,
          ctx.principal.sessionId,
          ctx.now(),
        ),
      { readOnly: true },
    );
  }),
  revoke: sessionProcedure
    .meta(own)
    .input(revokeSessionInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => revokeOwnSession(tx, actingUseCaseOf(ctx), input.sessionId));
      if (input.sessionId === ctx.principal.sessionId) ctx.cookies.clear();
      return { ok: true as const };
    }),
  // "Sign out everywhere" also forgets every remembered device (docs/mfa-factors.md).
  revokeOthers: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .mutation(async ({ ctx }) => {
      const revoked = await ctx.withTenant((tx) => revokeOtherSessions(tx, actingUseCaseOf(ctx)));
      await ctx.withTenant((tx) =>
        revokeAllRememberedDevices(tx, actingUseCaseOf(ctx), 'revoked_others'),
      );
      return { revoked };
    }),
});
