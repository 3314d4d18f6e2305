import { z } from 'zod';
import { role } from '../inputs/users.js';
import { nullableInstant, uuidString } from './common.js';

export const userListItemOutput = z.object({
  id: uuidString,
  email: z.string(),
  displayName: z.string().nullable(),
  role,
  /** A custom role on top of `member` (docs/roles.md), or null. */
  customRoleId: uuidString.nullable(),
  mfaEnabled: z.boolean(),
  disabled: z.boolean(),
  lastLoginAt: nullableInstant,
});

export const listUsersOutput = z.object({
  items: z.array(userListItemOutput),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});
