import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys, type ApiKeyType, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { apiKeyRefused } from '../outcomes.js';
import { auditActorOf, auditOriginOf, type ApiKeyActor, type RequestOrigin } from './actor.js';

/**
 * Revokes a key of the transaction's tenant. Other tenants' keys are invisible under RLS and
 * surface as api_key_not_found, as do keys already revoked. The UPDATE fires the NOTIFY trigger,
 * so every API process drops the key from its cache on commit.
 */
export async function revokeApiKey(
  tx: TenantTx,
  actor: ApiKeyActor,
  apiKeyId: string,
  now: Date,
): Promise<void> {
  // No tenant_id filter: RLS hides other tenants' rows, so they surface as "not found".
  const [revoked] = await tx
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, apiKeyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id, prefix: apiKeys.prefix });
  if (revoked === undefined) throw new AuthError('api_key_not_found');
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    ...auditOriginOf(actor),
    action: 'api_key.revoked',
    occurredAt: now,
    target: { type: 'api_key', id: revoked.id },
    after: { keyPrefix: revoked.prefix, revokedAt: now.toISOString() },
    metadata: { self: actor.type === 'api_key' && actor.id === revoked.id },
  });
}

/**
 * apiKeys.revokeSelf: the presented key revokes itself, so a holder or a secret scanner that
 * finds a leaked key can kill it without an account. Secret keys only: publishable keys are
 * public by design, and letting anyone who reads a web page revoke them would be a denial of service.
 */
export async function revokeOwnApiKey(
  tx: TenantTx,
  key: { id: string; type: ApiKeyType },
  origin: RequestOrigin,
  now: Date,
): Promise<void> {
  if (key.type !== 'secret') throw apiKeyRefused('api_key_forbidden');
  await revokeApiKey(tx, { type: 'api_key', id: key.id, scopes: [], origin }, key.id, now);
}
