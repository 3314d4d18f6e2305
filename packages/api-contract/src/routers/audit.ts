/**
 * audit.list and audit.verify (docs/design.md "Public contract"). Both read the caller's own tenant only
 * (RLS through ctx.withTenant). audit.list returns personal data (IPs, user agents, addresses), so
 * a call that returned any records `audit.log.listed` in its transaction (readAuditEvents);
 * audit.verify returns none and runs read-only. The streamed export is an HTTP route
 * (packages/api/src/routes/audit-export.ts), since a tRPC response cannot stream a whole log.
 */
import { readAuditEvents, verifyAuditChain, type JsonValue } from '@tessera/auth/audit';
import { listAuditEventsInput } from '../inputs/audit.js';
import { router, tenantProcedure } from '../trpc.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import { listAuditEventsOutput, verifyAuditChainOutput } from '../outputs/audit.js';
import { auditActorOf } from '../use-case.js';

// Output schemas describe exactly what the services return (REST face, OpenAPI document).
type Page = Awaited<ReturnType<typeof readAuditEvents>>;
type Json = 'before' | 'after' | 'metadata';
type Listed = z.output<typeof listAuditEventsOutput>;
const itemsAgree: Same<
  Omit<Listed['items'][number], Json>,
  Omit<Page['items'][number], Json>
> = true;
const cursorAgrees: Same<Listed['nextCursor'], Page['nextCursor']> = true;
// Recursive JSON types defeat the conditional check; plain assignability, both ways, does not.
type ListedJson = Listed['items'][number][Json];
const jsonAgrees = [
  (value: ListedJson): JsonValue => value,
  (value: JsonValue): ListedJson => value,
];
void [itemsAgree, cursorAgrees, jsonAgrees];
const verifyAgrees: Same<
  z.output<typeof verifyAuditChainOutput>,
  Awaited<ReturnType<typeof verifyAuditChain>>
> = true;
void verifyAgrees;

const readAudit = { roles: ['owner', 'admin', 'compliance'], scope: 'audit:read' } as const;

export const auditRouter = router({
  list: tenantProcedure
    .meta({ access: readAudit })
    .input(listAuditEventsInput)
    .output(listAuditEventsOutput)
    .query(({ ctx, input = {} }) => {
      const reader = {
        actor: auditActorOf(ctx.principal),
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
  verify: tenantProcedure
    .meta({ access: readAudit })
    .output(verifyAuditChainOutput)
    .query(({ ctx }) =>
      ctx.withTenant((tx) => verifyAuditChain(tx, { publicKey: ctx.auditPublicKey }), {
        readOnly: true,
      }),
    ),
});
