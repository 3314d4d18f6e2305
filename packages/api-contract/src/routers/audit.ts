/**
 * audit.list and audit.verify (DESIGN public contract). Both read the caller's own tenant only
 * (RLS through ctx.withTenant), in read-only transactions. The streamed export is an HTTP route
 * (packages/api/src/routes/audit-export.ts), since a tRPC response cannot stream a whole log.
 */
import { listAuditEvents, verifyAuditChain } from '@tessera/auth/audit';
import { listAuditEventsInput } from '../inputs/audit.js';
import { router, tenantProcedure } from '../trpc.js';

const readAudit = { roles: ['owner', 'admin', 'compliance'], scope: 'audit:read' } as const;

export const auditRouter = router({
  list: tenantProcedure
    .meta({ access: readAudit })
    .input(listAuditEventsInput)
    .query(({ ctx, input = {} }) =>
      ctx.withTenant(
        (tx) =>
          listAuditEvents(tx, {
            limit: input.limit,
            cursor: input.cursor,
            action: input.action,
            actorId: input.actorId,
            since: input.since === undefined ? undefined : new Date(input.since),
            until: input.until === undefined ? undefined : new Date(input.until),
          }),
        { readOnly: true },
      ),
    ),
  verify: tenantProcedure.meta({ access: readAudit }).query(({ ctx }) =>
    ctx.withTenant((tx) => verifyAuditChain(tx, { publicKey: ctx.auditPublicKey }), {
      readOnly: true,
    }),
  ),
});
