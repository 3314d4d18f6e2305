/**
 * The console's security overview (docs/console.md "Security overview"): read-only aggregates of
 * the caller's own tenant, each one statement (or two) computed in SQL under RLS through
 * ctx.withTenant; the logic lives in @tessera/auth/overview. Owners, admins and compliance staff
 * with a session; API keys are refused (the figures are for people; SIEMs read the audit log).
 */
import {
  apiKeyUsage,
  auditAnchoring,
  memberFactorCounts,
  privacyDeadlines,
  signInActivity,
} from '@tessera/auth/overview';
import { router, tenantProcedure } from '../trpc.js';

const staff = { permission: 'overview:read' } as const;
const readOnly = { readOnly: true } as const;

export const overviewRouter = router({
  members: tenantProcedure
    .meta({ access: staff })
    .query(({ ctx }) => ctx.withTenant((tx) => memberFactorCounts(tx), readOnly)),
  signIns: tenantProcedure
    .meta({ access: staff })
    .query(({ ctx }) => ctx.withTenant((tx) => signInActivity(tx, ctx.now()), readOnly)),
  apiKeys: tenantProcedure
    .meta({ access: staff })
    .query(({ ctx }) => ctx.withTenant((tx) => apiKeyUsage(tx, ctx.now()), readOnly)),
  privacyRequests: tenantProcedure
    .meta({ access: staff })
    .query(({ ctx }) => ctx.withTenant((tx) => privacyDeadlines(tx, ctx.now()), readOnly)),
  auditChain: tenantProcedure
    .meta({ access: staff })
    .query(({ ctx }) =>
      ctx.withTenant((tx) => auditAnchoring(tx, ctx.now(), ctx.auditPublicKey), readOnly),
    ),
});
