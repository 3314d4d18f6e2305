/** Typed calls to the SECURITY DEFINER lookups made before the tenant is known (docs/design.md rule 3). */
import type pg from 'pg';
import type { UserTokenKind } from './schema/identity.js';

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

export async function lookupTenantBySlug(
  pool: pg.Pool | pg.PoolClient,
  slug: string,
): Promise<TenantRef | null> {
  const { rows } = await pool.query<TenantRef>(
    'SELECT id, slug, name FROM public.lookup_tenant_by_slug($1)',
    [slug],
  );
  return rows[0] ?? null;
}

export interface ResolvedSession {
  tenantId: string;
  sessionId: string;
  userId: string;
  role: 'owner' | 'admin' | 'compliance' | 'member';
  aal: 1 | 2;
  mfaVerifiedAt: Date | null;
  mfaEnabled: boolean;
  enrollmentOnly: boolean;
  expiresAt: Date;
  /** The user's custom role and its permissions (migration 0034), read in the same statement. */
  customRole?: { id: string; permissions: readonly string[] };
}

/** Postgres NOTIFY channel of migrations/0024: changes that can alter or end a resolved session. */
export const SESSION_CHANGES_CHANNEL = 'tessera_sessions';

/**
 * Resolves a session cookie's hash (revocation, disabled user, timeouts and the tenant's current
 * MFA requirement applied in SQL, on the database clock).
 */
export async function resolveSession(
  pool: pg.Pool,
  tokenHash: Buffer,
): Promise<ResolvedSession | null> {
  return (await resolveSessionTimed(pool, tokenHash))?.session ?? null;
}

/**
 * resolveSession, plus how long the answer stays valid by the database's own clock
 * (`expiresAt` minus the resolver's `now()`), so a cache can expire it without trusting that
 * this process's clock agrees with the database's.
 */
export async function resolveSessionTimed(
  pool: pg.Pool,
  tokenHash: Buffer,
): Promise<{ session: ResolvedSession; validForMs: number } | null> {
  const { rows } = await pool.query<{
    tenant_id: string;
    session_id: string;
    user_id: string;
    role: ResolvedSession['role'];
    aal: number;
    mfa_verified_at: Date | null;
    mfa_enabled?: boolean;
    enrollment_only: boolean;
    expires_at: Date;
    custom_role_id?: string | null;
    permissions?: string[] | null;
    valid_for_ms: number;
  }>(
    // now() is the statement's transaction time: the same instant resolve_session decided with.
    'SELECT r.*, (extract(epoch FROM r.expires_at - pg_catalog.now()) * 1000)::float8 AS valid_for_ms FROM public.resolve_session($1) r',
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return null;
  const session: ResolvedSession = {
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    userId: row.user_id,
    role: row.role,
    aal: row.aal === 2 ? 2 : 1,
    mfaVerifiedAt: row.mfa_verified_at,
    mfaEnabled: row.mfa_enabled === true,
    enrollmentOnly: row.enrollment_only,
    expiresAt: row.expires_at,
  };
  if (row.custom_role_id)
    session.customRole = Object.freeze({
      id: row.custom_role_id,
      permissions: Object.freeze(row.permissions ?? []),
    });
  return { session, validForMs: Number(row.valid_for_ms) };
}

/** Finds a single-use token (invite, reset, verification) by its exact hash. */
export async function lookupUserToken(
  pool: pg.Pool,
  kind: UserTokenKind,
  tokenHash: Buffer,
): Promise<{ tenantId: string; tokenId: string } | null> {
  const { rows } = await pool.query<{ tenant_id: string; token_id: string }>(
    'SELECT * FROM public.lookup_user_token($1, $2)',
    [kind, tokenHash],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, tokenId: row.token_id } : null;
}

/** Cross-tenant worker listing: (tenant_id, id) of outbox mail due for delivery (database clock). */
export async function listDueOutbox(
  pool: pg.Pool,
  limit: number,
): Promise<{ tenantId: string; id: string }[]> {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>(
    'SELECT * FROM public.list_due_outbox($1)',
    [limit],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
}

/** Finds a sign-in MFA challenge by its exact hash (docs/design.md rule 3). */
export async function lookupMfaChallenge(
  pool: pg.Pool,
  tokenHash: Buffer,
): Promise<{ tenantId: string; challengeId: string } | null> {
  const { rows } = await pool.query<{ tenant_id: string; challenge_id: string }>(
    'SELECT * FROM public.lookup_mfa_challenge($1)',
    [tokenHash],
  );
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, challengeId: row.challenge_id } : null;
}
