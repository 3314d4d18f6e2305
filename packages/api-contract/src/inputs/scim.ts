import { z } from 'zod';

export const createScimTokenInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
});
export type CreateScimTokenInput = z.infer<typeof createScimTokenInput>;

export const scimTokenIdInput = z.strictObject({ id: z.string().uuid() });

export const updateScimSettingsInput = z.strictObject({
  deleteAction: z.enum(['disable', 'erase']),
});
export type UpdateScimSettingsInput = z.infer<typeof updateScimSettingsInput>;

/** `role: null` clears the mapping; ownership is never granted by a directory group. */
export const setScimGroupRoleInput = z.strictObject({
  groupId: z.string().uuid(),
  role: z.enum(['admin', 'compliance', 'member']).nullable(),
});
export type SetScimGroupRoleInput = z.infer<typeof setScimGroupRoleInput>;
