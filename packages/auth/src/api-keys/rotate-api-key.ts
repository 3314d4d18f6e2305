import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { auditActorOf, auditOriginOf } from './actor.js';
import {
  assertScopesWithin,
  insertApiKey,
  type MintedApiKey,
  type MintUseCase,
} from './create-api-key.js';

export const MAX_GRACE_SECONDS = 7 * 24 * 3600;

/**
 * Replaces a key with a new one of the same settings. The new key works at once; the old one
 * until `graceSeconds` have passed (its expiry moves to now + grace, never later than it was), or
 * is revoked at once when the grace is 0. A key actor needs every scope of the key it rotates.
 *
 * The usage quota moves rather than copies: the successor starts with what is left, and from now
 * on `consume_api_key_quota` charges the old key's calls to its newest successor (migrations/0023),
 * so old and new share one counter. A key is rotated at most once (`api_key_already_rotated`).
 * Pinned by rotate-api-key.security.test.ts.
 */
export async function rotateApiKey(
  tx: TenantTx,
  uc: MintUseCase,
  input: { id: string; graceSeconds: number },
): Promise<MintedApiKey> {
  const { actor, deps, now } = uc;
  if (
    !Number.isInteger(input.graceSeconds) ||
    input.graceSeconds < 0 ||
    input.graceSeconds > MAX_GRACE_SECONDS
  ) {
    throw new AuthError('invalid_input', {
      field: 'graceSeconds',
      detail: `The grace period is 0 to ${MAX_GRACE_SECONDS} seconds.`,
    });
  }
  const [old] = await tx
    .select(specColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.id, input.id), isNull(apiKeys.revokedAt)))
    .for('update');
  if (!old || (old.expiresAt !== null && old.expiresAt.getTime() <= now.getTime()))
    throw new AuthError('api_key_not_found');
  // One successor per key: a key in its grace period already handed its quota on, and a second
  // successor would copy it again (and the old key's short grace expiry with it).
  const [successor] = await tx
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(eq(apiKeys.rotatedFromId, old.id))
    .limit(1);
  if (successor)
    throw new AuthError('api_key_already_rotated', {
      field: 'id',
      detail: 'This API key was already rotated. Rotate its newest successor instead.',
    });
  if (old.type === 'secret') uc.assertMayMintSecret?.();
  assertScopesWithin(actor, old.scopes);
  const { id, prefix, ...spec } = old;
  const minted = await insertApiKey(tx, actor, { ...spec, rotatedFromId: id }, deps, now);
  const graceEndsAt = new Date(now.getTime() + input.graceSeconds * 1000);
  const endsAt =
    old.expiresAt !== null && old.expiresAt < graceEndsAt ? old.expiresAt : graceEndsAt;
  await tx
    .update(apiKeys)
    .set(input.graceSeconds === 0 ? { revokedAt: now } : { expiresAt: endsAt })
    .where(eq(apiKeys.id, id));
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    ...auditOriginOf(actor),
    action: 'api_key.rotated',
    occurredAt: now,
    target: { type: 'api_key', id },
    after: {
      keyPrefix: prefix,
      newKeyId: minted.apiKey.id,
      newKeyPrefix: minted.apiKey.prefix,
      graceEndsAt: endsAt.toISOString(),
    },
  });
  return minted;
}

const specColumns = {
  id: apiKeys.id,
  prefix: apiKeys.prefix,
  name: apiKeys.name,
  type: apiKeys.type,
  environment: apiKeys.environment,
  scopes: apiKeys.scopes,
  allowedCidrs: apiKeys.allowedCidrs,
  rateLimitMax: apiKeys.rateLimitMax,
  rateLimitWindowSeconds: apiKeys.rateLimitWindowSeconds,
  quotaRemaining: apiKeys.quotaRemaining,
  quotaRefillAmount: apiKeys.quotaRefillAmount,
  quotaRefillSeconds: apiKeys.quotaRefillSeconds,
  quotaRefilledAt: apiKeys.quotaRefilledAt,
  expiresAt: apiKeys.expiresAt,
};
