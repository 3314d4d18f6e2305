/**
 * compliance.* (docs/design.md "Public contract"): the tenant's request queue for compliance staff
 * (owners may read it; keys with privacy:read / privacy:write), legal holds, rejections and
 * deadline extensions. Every call runs in the caller's tenant (RLS), so another tenant's ids are
 * "not found"; every change and every view of the queue is audited by the service.
 */
import {
  complianceView,
  createPrivacyRequest,
  extendPrivacyDeadline,
  listPrivacyRequests,
  placeLegalHold,
  rejectPrivacyRequest,
  releaseLegalHold,
} from '@tessera/auth/privacy';
import {
  createPrivacyRequestInput,
  extendPrivacyDeadlineInput,
  listPrivacyRequestsInput,
  placeLegalHoldInput,
  rejectPrivacyRequestInput,
  releaseLegalHoldInput,
} from '../inputs/privacy.js';
import { router, sessionProcedure, tenantProcedure } from '../trpc.js';
import { privacyActorOf, privacyDepsOf } from './privacy.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import { createPrivacyRequestOutput, listPrivacyRequestsOutput } from '../outputs/privacy.js';

// Output schemas describe exactly what the services return (REST face, OpenAPI document).
const listAgrees: Same<
  z.output<typeof listPrivacyRequestsOutput>,
  Awaited<ReturnType<typeof listPrivacyRequests>>
> = true;
const createAgrees: Same<
  z.output<typeof createPrivacyRequestOutput>['request'],
  ReturnType<typeof complianceView>
> = true;
void [listAgrees, createAgrees];

const readQueue = { permission: 'compliance:read', scope: 'privacy:read' } as const;
const writeQueue = { permission: 'compliance:write', scope: 'privacy:write' } as const;
const officer = { permission: 'compliance:write' } as const;

export const complianceRouter = router({
  listRequests: tenantProcedure
    .meta({ access: readQueue })
    .input(listPrivacyRequestsInput)
    .output(listPrivacyRequestsOutput)
    .query(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        listPrivacyRequests(tx, privacyActorOf(ctx.principal, ctx), input ?? {}, ctx.now()),
      ),
    ),
  createRequest: tenantProcedure
    .meta({ access: writeQueue })
    .input(createPrivacyRequestInput)
    .output(createPrivacyRequestOutput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => {
        const { request, created } = await createPrivacyRequest(
          tx,
          privacyActorOf(ctx.principal, ctx),
          input,
          privacyDepsOf(ctx),
        );
        return { request: complianceView(request, ctx.now()), created };
      }),
    ),
  placeLegalHold: sessionProcedure
    .meta({ access: officer })
    .input(placeLegalHoldInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        placeLegalHold(tx, privacyActorOf(ctx.principal, ctx), input, ctx.now()),
      ),
    ),
  releaseLegalHold: sessionProcedure
    .meta({ access: officer })
    .input(releaseLegalHoldInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => ({
        ok: true as const,
        ...(await releaseLegalHold(tx, privacyActorOf(ctx.principal, ctx), input, ctx.now())),
      })),
    ),
  rejectRequest: sessionProcedure
    .meta({ access: officer })
    .input(rejectPrivacyRequestInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => ({
        request: complianceView(
          await rejectPrivacyRequest(
            tx,
            privacyActorOf(ctx.principal, ctx),
            input,
            privacyDepsOf(ctx),
          ),
          ctx.now(),
        ),
      })),
    ),
  extendDeadline: sessionProcedure
    .meta({ access: officer })
    .input(extendPrivacyDeadlineInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => ({
        request: complianceView(
          await extendPrivacyDeadline(tx, privacyActorOf(ctx.principal, ctx), input, ctx.now()),
          ctx.now(),
        ),
      })),
    ),
});
