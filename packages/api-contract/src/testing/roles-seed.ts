/**
 * Members with a role (built-in or custom) and a real session, for the role tests: the user row
 * and session are written as the runtime role, and the principal is resolved from the session
 * token exactly as the transport resolves it (resolve_session, with the custom role's permissions).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_SECURITY_POLICY } from '@tessera/auth/tenants';
import { createSession, hashSessionToken } from '@tessera/auth/sessions';
import { resolveSession, users, withTenant, type Database, type UserRole } from '@tessera/db';
import type { SessionPrincipal } from '../context.js';
import { sessionPrincipal } from '../principal.js';

export interface SeededMember {
  userId: string;
  token: string;
  hash: Buffer;
}

export async function seedMember(
  db: Database,
  tenantId: string,
  role: UserRole,
  customRoleId: string | null = null,
): Promise<SeededMember> {
  const userId = randomUUID();
  await withTenant(db, tenantId, (tx) =>
    tx.insert(users).values({
      id: userId,
      tenantId,
      email: `m-${userId.slice(0, 8)}@example.com`,
      role,
      customRoleId,
    }),
  );
  const { token } = await withTenant(db, tenantId, (tx) =>
    createSession(
      tx,
      DEFAULT_SECURITY_POLICY,
      { userId, aal: 1, ip: null, userAgent: null },
      new Date(),
    ),
  );
  return { userId, token, hash: hashSessionToken(token) };
}

/** The member's principal as their next request would see it (no cache). */
export async function principalOf(db: Database, member: SeededMember): Promise<SessionPrincipal> {
  const session = await resolveSession(db.pool, member.hash);
  if (!session) throw new Error('no live session');
  return sessionPrincipal(session);
}
