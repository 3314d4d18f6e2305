import { z } from 'zod';

export const role = z.enum(['owner', 'admin', 'compliance', 'member']);
export const listUsersInput = z
  .strictObject({
    cursor: z.string().uuid().optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();
/** A custom role (docs/roles.md), given with role 'member'; null or omitted: none. */
const customRoleId = z.string().uuid().nullable().optional();
export const inviteUserInput = z.strictObject({
  email: z.string().trim().min(3).max(254).email(),
  role,
  customRoleId,
});
export const setRoleInput = z.strictObject({ userId: z.string().uuid(), role, customRoleId });
export const userIdInput = z.strictObject({ userId: z.string().uuid() });
export const revokeSessionInput = z.strictObject({ sessionId: z.string().uuid() });
export const updateSecurityPolicyInput = z.strictObject({
  mfaRequired: z.enum(['off', 'admins', 'all']).optional(),
  sessionIdleMinutes: z.number().int().min(5).max(1440).optional(),
  sessionMaxHours: z.number().int().min(1).max(720).optional(),
  maxSessionsPerUser: z.number().int().min(1).max(100).optional(),
  passwordMinLength: z.number().int().min(8).max(256).optional(),
  lockoutThreshold: z.number().int().min(3).max(50).optional(),
  lockoutBaseSeconds: z.number().int().min(1).max(3600).optional(),
  rememberDeviceDays: z.number().int().min(0).max(365).optional(),
  passkeyPasswordless: z.boolean().optional(),
  smsCodesAllowed: z.boolean().optional(),
  emailCodesAllowed: z.boolean().optional(),
});

export const importLegacyInput = z.strictObject({
  users: z
    .array(
      z.strictObject({
        email: z.string().trim().min(3).max(254),
        role: z.enum(['owner', 'admin', 'compliance', 'member']).default('member'),
        passwordHash: z.string().min(1).max(100),
        displayName: z.string().trim().max(100).nullish(),
      }),
    )
    .min(1)
    .max(1000),
});
