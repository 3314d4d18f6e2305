import { apiKeys, type ApiKeyEnvironment, type ApiKeyRow, type ApiKeyType } from '@tessera/db';

/** What list/create/rotate return: everything about a key except the key and its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  prefix: string;
  scopes: string[];
  allowedCidrs: string[];
  rateLimit: { max: number; windowSeconds: number } | null;
  quota: { remaining: number; refill: { amount: number; intervalSeconds: number } | null } | null;
  createdAt: string;
  createdBy: string | null;
  createdByKeyId: string | null;
  rotatedFromId: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Explicit columns: the runtime role has no SELECT on key_hash (migrations/0007). */
export const viewColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  type: apiKeys.type,
  environment: apiKeys.environment,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  allowedCidrs: apiKeys.allowedCidrs,
  rateLimitMax: apiKeys.rateLimitMax,
  rateLimitWindowSeconds: apiKeys.rateLimitWindowSeconds,
  quotaRemaining: apiKeys.quotaRemaining,
  quotaRefillAmount: apiKeys.quotaRefillAmount,
  quotaRefillSeconds: apiKeys.quotaRefillSeconds,
  createdAt: apiKeys.createdAt,
  createdBy: apiKeys.createdBy,
  createdByKeyId: apiKeys.createdByKeyId,
  rotatedFromId: apiKeys.rotatedFromId,
  lastUsedAt: apiKeys.lastUsedAt,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
};

export type ApiKeyViewRow = Pick<ApiKeyRow, keyof typeof viewColumns>;

export function toApiKeyView(row: ApiKeyViewRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    environment: row.environment,
    prefix: row.prefix,
    scopes: row.scopes,
    allowedCidrs: row.allowedCidrs,
    rateLimit:
      row.rateLimitMax !== null && row.rateLimitWindowSeconds !== null
        ? { max: row.rateLimitMax, windowSeconds: row.rateLimitWindowSeconds }
        : null,
    quota:
      row.quotaRemaining === null
        ? null
        : {
            remaining: row.quotaRemaining,
            refill:
              row.quotaRefillAmount !== null && row.quotaRefillSeconds !== null
                ? { amount: row.quotaRefillAmount, intervalSeconds: row.quotaRefillSeconds }
                : null,
          },
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    createdByKeyId: row.createdByKeyId,
    rotatedFromId: row.rotatedFromId,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
