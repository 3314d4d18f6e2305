import { getTenant, updateSecurityPolicy } from '@tessera/auth/tenants';
import { updateSecurityPolicyInput } from '../inputs/users.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { router, sessionProcedure } from '../trpc.js';
import { ssoRouter } from './sso.js';
import { samlRouter } from './saml.js';
import { actingUseCaseOf } from '../use-case.js';

export const tenantRouter = router({
  sso: ssoRouter,
  saml: samlRouter,
  get: sessionProcedure
    .meta({ access: { permission: 'self' } })
    .query(({ ctx }) => ctx.withTenant((tx) => getTenant(tx), { readOnly: true })),
  updateSecurityPolicy: sessionProcedure
    .meta({ access: { permission: 'security_policy:write' } })
    .input(updateSecurityPolicyInput)
    .mutation(async ({ ctx, input }) => {
      const { principal: p } = ctx;
      const patch = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
      // Judged against the stored policy inside the transaction: only a change that lowers protection needs step-up.
      const securityPolicy = await ctx.withTenant((tx) =>
        updateSecurityPolicy(tx, actingUseCaseOf(ctx), patch, {
          assertMayWeaken: () => assertRecentMfa(p, ctx.now()),
        }),
      );
      return { securityPolicy };
    }),
});
