import { z } from 'zod';
import { isoInstant, nullableInstant, uuidString } from './common.js';

/** Everything about a key except the key and its hash. */
export const apiKeyOutput = z.object({
  id: uuidString,
  name: z.string(),
  type: z.enum(['publishable', 'secret']),
  environment: z.enum(['live', 'test']),
  prefix: z.string(),
  scopes: z.array(z.string()),
  allowedCidrs: z.array(z.string()),
  rateLimit: z.object({ max: z.number().int(), windowSeconds: z.number().int() }).nullable(),
  quota: z
    .object({
      remaining: z.number().int(),
      refill: z.object({ amount: z.number().int(), intervalSeconds: z.number().int() }).nullable(),
    })
    .nullable(),
  createdAt: isoInstant,
  createdBy: z.string().nullable(),
  createdByKeyId: z.string().nullable(),
  rotatedFromId: z.string().nullable(),
  lastUsedAt: nullableInstant,
  expiresAt: nullableInstant,
  revokedAt: nullableInstant,
});

/** `key` is the secret itself, shown once. */
export const mintedApiKeyOutput = z.object({ key: z.string(), apiKey: apiKeyOutput });
export const listApiKeysOutput = z.array(apiKeyOutput);
export const okOutput = z.object({ ok: z.literal(true) });
export const revokedSelfOutput = z.object({ revoked: z.literal(true) });
