import { z } from 'zod';

export const apiKeyScope = z.enum([
  'users:read',
  'users:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
]);
export type ApiKeyScopeInput = z.infer<typeof apiKeyScope>;

export const createApiKeyInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  type: z.enum(['publishable', 'secret']),
  environment: z.enum(['live', 'test']),
  scopes: z.array(apiKeyScope).max(apiKeyScope.options.length).default([]),
  allowedCidrs: z.array(z.string().max(43)).max(100).optional(), // parsed by the CIDR library in auth
  rateLimit: z
    .strictObject({
      max: z.number().int().min(1).max(1_000_000),
      windowSeconds: z.number().int().min(1).max(86_400),
    })
    .optional(),
  quota: z
    .strictObject({
      remaining: z.number().int().min(0).max(1_000_000_000),
      refill: z
        .strictObject({
          amount: z.number().int().min(1).max(1_000_000_000),
          intervalSeconds: z.number().int().min(60).max(31_536_000),
        })
        .optional(),
    })
    .optional(),
  expiresAt: z.string().datetime({ offset: true }).optional(),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeyInput>;

export const apiKeyIdInput = z.strictObject({ id: z.string().uuid() });
export const rotateApiKeyInput = z.strictObject({
  id: z.string().uuid(),
  graceSeconds: z.number().int().min(0).max(604_800),
});
export type RotateApiKeyInput = z.infer<typeof rotateApiKeyInput>;
