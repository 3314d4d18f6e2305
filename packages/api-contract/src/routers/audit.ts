/**
 * audit.list and audit.verify (docs/design.md "Public contract"), and the console's audit.actions
 * and audit.get. All read the caller's own tenant only (RLS through ctx.withTenant). audit.list and
 * audit.get return personal data (IPs, user agents, addresses, names), so a call that returned any
 * records `audit.log.listed` in its transaction (readAuditEvents); audit.verify and audit.actions
 * return none and run read-only. The streamed export is an HTTP route
 * (packages/api/src/routes/audit-export.ts), since a tRPC response cannot stream a whole log.
 */
import type { readAuditEvents } from '@tessera/auth/audit';
import {
  auditActionsInUse,
  explainRiskScore,
  verifyAuditChain,
  type JsonValue,
} from '@tessera/auth/audit';
import { AuthError } from '@tessera/auth';
import type { Principal } from '../context.js';
import { getAuditEventInput, listAuditEventsInput } from '../inputs/audit.js';
import { readNamedPage, toListFilter } from './audit-names.js';
import { router, tenantProcedure } from '../trpc.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import { listAuditEventsOutput, verifyAuditChainOutput } from '../outputs/audit.js';
import { auditActorOf } from '../use-case.js';

// Output schemas describe exactly what the services return (REST face, OpenAPI document).
type Page = Awaited<ReturnType<typeof readAuditEvents>>;
type Json = 'before' | 'after' | 'metadata';
type Listed = z.output<typeof listAuditEventsOutput>;
const namesAgree: Same<Listed['names'], Page['names']> = true;
void namesAgree;
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

const readAudit = { permission: 'audit:read', scope: 'audit:read' } as const;
/** The console's own reads: sessions only (API keys read the log through audit.list). */
const consoleAudit = { permission: 'audit:read' } as const;

const readerOf = (ctx: {
  principal: Principal;
  meta: { ip: string | null; userAgent: string | null };
  now: () => Date;
}) => ({
  actor: auditActorOf(ctx.principal),
  ip: ctx.meta.ip,
  userAgent: ctx.meta.userAgent,
  now: ctx.now(),
});

export const auditRouter = router({
  list: tenantProcedure
    .meta({ access: readAudit })
    .input(listAuditEventsInput)
    .output(listAuditEventsOutput)
    .query(({ ctx, input = {} }) =>
      ctx.withTenant((tx) => readNamedPage(tx, ctx.principal, readerOf(ctx), toListFilter(input))),
    ),
  /** The actions that occur in the tenant's log, for the console's action filter. */
  actions: tenantProcedure
    .meta({ access: consoleAudit })
    .query(({ ctx }) =>
      ctx.withTenant(async (tx) => ({ actions: await auditActionsInUse(tx) }), { readOnly: true }),
    ),
  /** One event with its names and its risk score explained (the console's detail drawer). */
  get: tenantProcedure
    .meta({ access: consoleAudit })
    .input(getAuditEventInput)
    .query(({ ctx, input }) =>
      ctx.withTenant(async (tx) => {
        const page = await readNamedPage(tx, ctx.principal, readerOf(ctx), {
          cursor: input.seq + 1,
          limit: 1,
        });
        const event = page.items.find((item) => item.seq === input.seq);
        if (!event) throw new AuthError('not_found', { detail: 'No such audit event.' });
        return {
          event,
          names: page.names,
          risk: explainRiskScore(event.action, event.riskScore, event.metadata),
        };
      }),
    ),
  verify: tenantProcedure
    .meta({ access: readAudit })
    .output(verifyAuditChainOutput)
    .query(({ ctx }) =>
      ctx.withTenant((tx) => verifyAuditChain(tx, { publicKey: ctx.auditPublicKey }), {
        readOnly: true,
      }),
    ),
});
