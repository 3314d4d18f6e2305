import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  revokeOwnApiKey,
  rotateApiKey,
  type API_KEY_SCOPES,
  type MintUseCase,
} from '@tessera/auth/api-keys';
import {
  apiKeyIdInput,
  createApiKeyInput,
  rotateApiKeyInput,
  type apiKeyScope,
} from '../inputs/api-keys.js';
import { assertRecentMfa } from '../middleware/require-recent-mfa.js';
import { requestOf, router, tenantProcedure } from '../trpc.js';
import { notifyApiKeyCreated } from '@tessera/auth/outbox';
import type { z } from 'zod';
import type { Same } from '../outputs/common.js';
import {
  listApiKeysOutput,
  mintedApiKeyOutput,
  okOutput,
  revokedSelfOutput,
} from '../outputs/api-keys.js';
import { apiKeyActorOf } from '../use-case.js';
import type { Context } from '../context.js';

/** Who mints a key, with what, and the step-up a secret key needs when a session mints it. */
function mintUseCaseOf(
  ctx: Parameters<typeof apiKeyActorOf>[0] & Pick<Context, 'services' | 'now'>,
): MintUseCase {
  return {
    actor: apiKeyActorOf(ctx),
    deps: ctx.services.apiKeys,
    now: ctx.now(),
    assertMayMintSecret: () => assertRecentMfa(ctx.principal, ctx.now()),
  };
}

const manageKeys = { permission: 'api_keys:write', scope: 'api_keys:write' } as const;
const readKeys = { permission: 'api_keys:read', scope: 'api_keys:read' } as const;

// The wire enum and the domain list must not drift: each fails to compile without the other.
const scopesAgree: Same<(typeof apiKeyScope.options)[number], (typeof API_KEY_SCOPES)[number]> =
  true;
void scopesAgree;
// Output schemas describe exactly what the services return (REST face, OpenAPI document).
const mintedAgrees: Same<
  z.output<typeof mintedApiKeyOutput>,
  Awaited<ReturnType<typeof createApiKey>>
> = true;
const rotatedAgrees: Same<
  z.output<typeof mintedApiKeyOutput>,
  Awaited<ReturnType<typeof rotateApiKey>>
> = true;
const listAgrees: Same<
  z.output<typeof listApiKeysOutput>,
  Awaited<ReturnType<typeof listApiKeys>>
> = true;
void [mintedAgrees, rotatedAgrees, listAgrees];

export const apiKeysRouter = router({
  // Minting a secret key is step-up territory for users who have MFA (no-op for keys and for users without MFA).
  create: tenantProcedure
    .meta({ access: manageKeys })
    .input(createApiKeyInput)
    .output(mintedApiKeyOutput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant(async (tx) => {
        const minted = await createApiKey(tx, mintUseCaseOf(ctx), input);
        if (ctx.principal.kind === 'session')
          await notifyApiKeyCreated(
            tx,
            ctx.services.accounts.keyring,
            ctx.principal.userId,
            minted.apiKey,
            ctx.now(),
          );
        return minted;
      }),
    ),
  list: tenantProcedure
    .meta({ access: readKeys })
    .output(listApiKeysOutput)
    .query(({ ctx }) => ctx.withTenant((tx) => listApiKeys(tx), { readOnly: true })),
  revoke: tenantProcedure
    .meta({ access: manageKeys })
    .input(apiKeyIdInput)
    .output(okOutput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => revokeApiKey(tx, apiKeyActorOf(ctx), input.id, ctx.now()));
      return { ok: true as const };
    }),
  rotate: tenantProcedure
    .meta({ access: manageKeys })
    .input(rotateApiKeyInput)
    .output(mintedApiKeyOutput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) => rotateApiKey(tx, mintUseCaseOf(ctx), input)),
    ),
  // Any presented secret key may revoke itself, so a holder or a scanner can kill a leaked key.
  revokeSelf: tenantProcedure
    .meta({ access: { permission: 'self', apiKeyOnly: true } })
    .output(revokedSelfOutput)
    .mutation(async ({ ctx }) => {
      const p = ctx.principal;
      if (p.kind !== 'api_key') throw new TypeError('apiKeyOnly procedure reached without a key');
      await ctx.withTenant((tx) =>
        revokeOwnApiKey(tx, { id: p.keyId, type: p.keyType }, requestOf(ctx), ctx.now()),
      );
      return { revoked: true as const };
    }),
});
