/**
 * Seeds 1,000 tenants x 1,000 users with set-based SQL as the owner, then gives the tenants the
 * bench actually hits what the real paths would have produced:
 * - read tenants: a live session of the tenant's owner whose row stores only SHA-256(token),
 *   exactly as `createSession` stores it (the cookie carries the token);
 * - sign-in tenants: an owner whose password is a real Argon2id (OWASP) PHC string.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_SECURITY_POLICY } from '@tessera/auth/tenants';
import { QUICK } from './load.js';

export const TENANTS = 1_000;
/** A quick run (load.ts) seeds 50 users per tenant: enough for every page the scenarios read. */
export const USERS_PER_TENANT = QUICK ? 50 : 1_000;
/** Tenants whose sessions the read benchmarks rotate through (avoids one hot session row). */
export const READ_TENANTS = 50;
/** Distinct accounts (one per tenant) for the sign-in benchmark: no per-account or audit-chain hot spot. */
export const SIGN_IN_ACCOUNTS = 200;
const SIGN_IN_FIRST_TENANT = 501;
export const BENCH_PASSWORD = 'bench-Password-that-is-long-enough-2026';

export interface ReadSession {
  tenantId: string;
  token: string;
}

export interface SignInAccount {
  tenantSlug: string;
  email: string;
}

export interface Seeded {
  readSessions: ReadSession[];
  signInAccounts: SignInAccount[];
  seconds: number;
}

const slugOf = (i: number): string => `bench-${String(i).padStart(4, '0')}`;
export const OWNER_EMAIL = 'user1@bench.example';

async function seedTenants(client: pg.Client, tenants: number): Promise<void> {
  await client.query(
    `INSERT INTO public.tenants (id, slug, name, security_policy)
     SELECT gen_random_uuid(), 'bench-' || lpad(i::text, 4, '0'), 'Bench tenant ' || i, $2::jsonb
       FROM generate_series(1, $1::int) AS i`,
    [tenants, JSON.stringify(DEFAULT_SECURITY_POLICY)],
  );
}

/** Users of the tenants numbered [first, last]; one transaction. */
async function seedUsers(client: pg.Client, first: number, last: number): Promise<void> {
  await client.query('BEGIN');
  // Owner only, throwaway database: skip the per-row FK triggers of the bulk load.
  await client.query('SET LOCAL session_replication_role = replica');
  await client.query(
    `INSERT INTO public.users (tenant_id, email, display_name, role, created_at, updated_at)
     SELECT t.id, 'user' || g || '@bench.example', 'User ' || g,
            CASE WHEN g = 1 THEN 'owner' ELSE 'member' END, now(), now()
       FROM public.tenants t CROSS JOIN generate_series(1, $3::int) AS g
      WHERE t.slug BETWEEN $1 AND $2`,
    [slugOf(first), slugOf(last), USERS_PER_TENANT],
  );
  await client.query('COMMIT');
}

const connect = async (url: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url, application_name: 'tessera-bench-seed' });
  await client.connect();
  return client;
};

/**
 * The embedded binaries are built with -Os and insert about 30k users/s per backend here, so
 * the 1M rows go in through one connection per core.
 */
async function seedTenantsAndUsers(
  client: pg.Client,
  ownerUrl: string,
  tenants: number,
): Promise<void> {
  await seedTenants(client, tenants);
  const other = await connect(ownerUrl);
  try {
    const half = Math.floor(tenants / 2);
    await Promise.all([seedUsers(client, 1, half), seedUsers(other, half + 1, tenants)]);
  } finally {
    await other.end();
  }
  // Hint bits, visibility map and statistics now, not during the first measured seconds.
  await client.query('VACUUM (ANALYZE) public.tenants, public.users');
}

async function seedSessions(client: pg.Client, count: number): Promise<ReadSession[]> {
  const slugs = Array.from({ length: count }, (_, i) => slugOf(i + 1));
  const tokens = slugs.map(() => randomBytes(32).toString('base64url'));
  const hashes = tokens.map((token) => createHash('sha256').update(token, 'utf8').digest());
  await client.query(
    `INSERT INTO public.sessions (tenant_id, user_id, token_hash, ip_address, user_agent)
     SELECT u.tenant_id, u.id, x.token_hash, '127.0.0.1', 'tessera-bench'
       FROM unnest($1::text[], $2::bytea[]) AS x(slug, token_hash)
       JOIN public.tenants t ON t.slug = x.slug
       JOIN public.users u ON u.tenant_id = t.id AND u.email = $3`,
    [slugs, hashes, OWNER_EMAIL],
  );
  const { rows } = await client.query<{ slug: string; id: string }>(
    'SELECT id, slug FROM public.tenants WHERE slug = ANY($1::text[])',
    [slugs],
  );
  const idBySlug = new Map(rows.map((row) => [row.slug, row.id]));
  return slugs.map((slug, i) => {
    const tenantId = idBySlug.get(slug);
    const token = tokens[i];
    if (!tenantId || !token) throw new Error(`no session seeded for ${slug}`);
    return { tenantId, token };
  });
}

async function seedPasswords(client: pg.Client, passwordHash: string): Promise<SignInAccount[]> {
  const slugs = Array.from({ length: SIGN_IN_ACCOUNTS }, (_, i) =>
    slugOf(SIGN_IN_FIRST_TENANT + i),
  );
  const { rowCount } = await client.query(
    `UPDATE public.users u SET password_hash = $1, password_algorithm = 'argon2id'
       FROM public.tenants t
      WHERE u.tenant_id = t.id AND t.slug = ANY($2::text[]) AND u.email = $3`,
    [passwordHash, slugs, OWNER_EMAIL],
  );
  if (rowCount !== SIGN_IN_ACCOUNTS)
    throw new Error(`expected ${SIGN_IN_ACCOUNTS} sign-in accounts, got ${rowCount}`);
  return slugs.map((tenantSlug) => ({ tenantSlug, email: OWNER_EMAIL }));
}

/** Seeds everything as the owner (superuser); `passwordHash` is an Argon2id PHC of BENCH_PASSWORD. */
export async function seed(ownerUrl: string, passwordHash: string): Promise<Seeded> {
  const started = performance.now();
  const client = await connect(ownerUrl);
  try {
    await seedTenantsAndUsers(client, ownerUrl, TENANTS);
    const readSessions = await seedSessions(client, READ_TENANTS);
    const signInAccounts = await seedPasswords(client, passwordHash);
    await client.query('ANALYZE public.sessions');
    return { readSessions, signInAccounts, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

/** A smaller directory with read sessions only, for the round-trip study (round-trips.ts). */
export async function seedForReads(
  ownerUrl: string,
  tenants: number,
  sessions: number,
): Promise<ReadSession[]> {
  const client = await connect(ownerUrl);
  try {
    await seedTenantsAndUsers(client, ownerUrl, tenants);
    const readSessions = await seedSessions(client, sessions);
    await client.query('ANALYZE public.sessions');
    return readSessions;
  } finally {
    await client.end();
  }
}
