/**
 * privacy.webhooks.* (GDPR Art. 19; docs/privacy.md "Webhooks"): a tenant's endpoints
 * that receive signed events when an export or an erasure starts and completes. Owners and admins
 * manage them (the signing secret is returned once, by create and rotateSecret); compliance staff
 * and privacy:read keys read the endpoints and the delivery log; an erasure waiting for an
 * endpoint can be acknowledged explicitly (compliance, owners, admins, privacy:write keys). URLs
 * pass the platform's outbound rule (the one SSO issuers use). Every call runs in the caller's
 * tenant (RLS): another tenant's ids are "not found".
 */
import {
  acknowledgeWebhookDelivery,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type WebhookDeps,
} from '@tessera/auth/privacy';
import type { Context } from '../context.js';
import {
  acknowledgePrivacyWebhookInput,
  createPrivacyWebhookInput,
  listPrivacyWebhookDeliveriesInput,
  privacyWebhookIdInput,
  rotatePrivacyWebhookSecretInput,
  updatePrivacyWebhookInput,
} from '../inputs/privacy.js';
import { router, sessionProcedure, tenantProcedure } from '../trpc.js';
import { privacyActorOf } from './privacy-actor.js';
import { ssoServicesOf } from './sso.js';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import {
  acknowledgeWebhookOutput,
  listWebhookDeliveriesOutput,
  listWebhookEndpointsOutput,
} from '../outputs/privacy.js';

// Output schemas describe exactly what the services return (REST face, OpenAPI document).
const listAgrees: Same<
  z.output<typeof listWebhookEndpointsOutput>,
  Awaited<ReturnType<typeof listWebhookEndpoints>>
> = true;
const deliveriesAgree: Same<
  z.output<typeof listWebhookDeliveriesOutput>,
  Awaited<ReturnType<typeof listWebhookDeliveries>>
> = true;
const acknowledgeAgrees: Same<
  z.output<typeof acknowledgeWebhookOutput>,
  Awaited<ReturnType<typeof acknowledgeWebhookDelivery>>
> = true;
void [listAgrees, deliveriesAgree, acknowledgeAgrees];

const manage = { permission: 'privacy_webhooks:write' } as const;
const read = { permission: 'privacy:read', scope: 'privacy:read' } as const;
const acknowledge = { permission: 'privacy:write', scope: 'privacy:write' } as const;

function depsOf(ctx: Pick<Context, 'services' | 'now'>): WebhookDeps {
  return {
    keyring: ctx.services.accounts.keyring,
    outbound: ssoServicesOf(ctx).outbound,
    now: ctx.now(),
  };
}

export const privacyWebhooksRouter = router({
  create: sessionProcedure
    .meta({ access: manage })
    .input(createPrivacyWebhookInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        createWebhookEndpoint(tx, privacyActorOf(ctx.principal, ctx), input, depsOf(ctx)),
      ),
    ),
  list: tenantProcedure
    .meta({ access: read })
    .output(listWebhookEndpointsOutput)
    .query(({ ctx }) => ctx.withTenant((tx) => listWebhookEndpoints(tx), { readOnly: true })),
  update: sessionProcedure
    .meta({ access: manage })
    .input(updatePrivacyWebhookInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => ({
        endpoint: await updateWebhookEndpoint(
          tx,
          privacyActorOf(ctx.principal, ctx),
          input,
          depsOf(ctx),
        ),
      })),
    ),
  delete: sessionProcedure
    .meta({ access: manage })
    .input(privacyWebhookIdInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => {
        await deleteWebhookEndpoint(tx, privacyActorOf(ctx.principal, ctx), input.id, ctx.now());
        return { ok: true as const };
      }),
    ),
  rotateSecret: sessionProcedure
    .meta({ access: manage })
    .input(rotatePrivacyWebhookSecretInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        rotateWebhookSecret(tx, privacyActorOf(ctx.principal, ctx), input, depsOf(ctx)),
      ),
    ),
  deliveries: tenantProcedure
    .meta({ access: read })
    .input(listPrivacyWebhookDeliveriesInput)
    .output(listWebhookDeliveriesOutput)
    .query(({ ctx, input }) =>
      ctx.withTenant((tx) => listWebhookDeliveries(tx, input ?? {}), { readOnly: true }),
    ),
  acknowledge: tenantProcedure
    .meta({ access: acknowledge })
    .input(acknowledgePrivacyWebhookInput)
    .output(acknowledgeWebhookOutput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        acknowledgeWebhookDelivery(
          tx,
          privacyActorOf(ctx.principal, ctx),
          input.deliveryId,
          ctx.now(),
        ),
      ),
    ),
});
