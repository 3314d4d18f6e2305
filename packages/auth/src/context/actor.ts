import type { UserRole } from '@tessera/db';

/** A signed-in user acting inside their tenant. */
export interface Actor {
  tenantId: string;
  userId: string;
  role: UserRole;
  sessionId: string | null;
  /** The permissions of the user's custom role, if any (docs/roles.md). */
  customPermissions?: readonly string[] | undefined;
}
