/**
 * audit.list and audit.verify (docs/design.md "Public contract"). Both read the caller's own tenant only
 * (RLS through ctx.withTenant). audit.list returns personal data (IPs, user agents, addresses), so
 * a call that returned any records `audit.log.listed` in its transaction (readAuditEvents);
 * audit.verify returns none and runs read-only. The streamed export is an HTTP route
 * (packages/api/src/routes/audit-export.ts), since a tRPC response cannot stream a whole log.
 */
import { readAuditEvents, verifyAuditChain } from '@tessera/auth/audit';
import type { Principal } from '../context.js';
import { listAuditEventsInput } from '../inputs/audit.js';
import { router, tenantProcedure } from '../trpc.js';

const actorOf = (principal: Principal) =>
  principal.kind === 'session'
    ? ({ type: 'user', id: principal.userId } as const)
    : ({ type: 'api_key', id: principal.keyId } as const);

const readAudit = { roles: ['owner', 'admin', 'compliance'], scope: 'audit:read' } as const;

export const auditRouter = router({
  list: tenantProcedure
    .meta({ access: readAudit })
    .input(listAuditEventsInput)
    .query(({ ctx, input = {} }) => {
      const reader = {
        actor: actorOf(ctx.principal),
        ip: ctx.meta.ip,
        userAgent: ctx.meta.userAgent,
        now: ctx.now(),
      };
      return ctx.withTenant((tx) =>
        readAuditEvents(tx, reader, {
          limit: input.limit,
          cursor: input.cursor,
          action: input.action,
          actorId: input.actorId,
          since: input.since === undefined ? undefined : new Date(input.since),
          until: input.until === undefined ? undefined : new Date(input.until),
        }),
      );
    }),
  verify: tenantProcedure.meta({ access: readAudit }).query(({ ctx }) =>
    ctx.withTenant((tx) => verifyAuditChain(tx, { publicKey: ctx.auditPublicKey }), {
      readOnly: true,
    }),
  ),
});
