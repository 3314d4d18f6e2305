/**
 * The peer column: Better Auth, the product teams compare Tessera with, served in this process on
 * its own Node HTTP server, on its own database in the same embedded PostgreSQL cluster, and
 * measured with the same load generator, connections and slices as Tessera's scenarios.
 *
 * Configured as a team would ship it: email and password enabled with the default scrypt hash,
 * database sessions with the cookie cache off (every get-session reads the session row, as
 * Tessera's session resolution does), the API-key plugin with its default SHA-256 key hashing,
 * and both rate limiters on with their thresholds raised exactly like Tessera's are in the bench.
 * The schema is created by Better Auth's own migration API.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { apiKey } from '@better-auth/api-key';
import type { BenchCluster } from './cluster.js';
import type { LoadRequest } from './load-types.js';
import { BENCH_PASSWORD } from './seed.js';
import { POOL_SIZE, RAISED_LIMIT } from './servers.js';

export const PEER_DATABASE = 'better_auth_bench';
const PEER_ROLE = 'better_auth_bench';
/** Users in the peer's directory; every one has a credential account with a scrypt hash. */
export const PEER_USERS = 1_000;
/** Sessions and API keys the peer's scenarios rotate through, as many as Tessera's read tenants. */
export const PEER_SESSIONS = 50;
/** Distinct sign-in accounts, as many as Tessera's sign-in bench uses. */
export const PEER_SIGN_IN_ACCOUNTS = 200;
/** The protected route a server authenticates an API key on (the plugin's documented server call). */
export const PEER_API_KEY_PATH = '/api/users';
/** The per-key limit of the API-key plugin is counted in a window of this length. */
const API_KEY_WINDOW_MS = 60_000;
/**
 * Better Auth reads the client address from headers only; without one every client shares one
 * rate-limit bucket (and it warns). The load carries what a reverse proxy in front of it would set.
 */
const FORWARDED = { 'x-forwarded-for': '127.0.0.1' } as const;

const emailOf = (i: number): string => `peer-user${i}@bench.example`;

/** Creates the peer's login role and database in the bench's cluster; returns its URL. */
export async function createPeerDatabase(bench: BenchCluster): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  const admin = new pg.Client({ connectionString: bench.cluster.url('postgres') });
  await admin.connect();
  try {
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- role names and passwords cannot be bind parameters; both are generated here (base64url)
    await admin.query(`CREATE ROLE ${PEER_ROLE} LOGIN PASSWORD '${password}'`);
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; these are constants
    await admin.query(`CREATE DATABASE ${PEER_DATABASE} OWNER ${PEER_ROLE}`);
  } finally {
    await admin.end();
  }
  return bench.cluster.url(PEER_DATABASE, PEER_ROLE, password);
}

/** Better Auth's error log lines, kept for the report like the API's (LogSink); nothing else is logged. */
function authOptions(pool: pg.Pool, baseURL: string, errors: string[]) {
  return {
    baseURL,
    secret: randomBytes(32).toString('base64url'),
    database: pool,
    emailAndPassword: { enabled: true },
    // Database sessions (the default); the cookie cache stays off so every get-session reads the
    // database, as Tessera's session resolution does on every request.
    session: { cookieCache: { enabled: false } },
    // On (its default in production), thresholds raised like Tessera's: each request still does
    // the limiter's counting work. Sign-in has a stricter built-in rule (3 per 10 s), raised too.
    rateLimit: {
      enabled: true,
      window: 60,
      max: RAISED_LIMIT,
      customRules: { '/sign-in/*': { window: 10, max: RAISED_LIMIT } },
    },
    plugins: [
      // Default key hashing (SHA-256); the per-key limit on and raised, like Tessera's per-key limits.
      apiKey({
        rateLimit: { enabled: true, timeWindow: API_KEY_WINDOW_MS, maxRequests: RAISED_LIMIT },
      }),
    ],
    telemetry: { enabled: false },
    logger: {
      level: 'error' as const,
      log: (
        _level: 'debug' | 'info' | 'success' | 'warn' | 'error',
        message: string,
        ...args: unknown[]
      ): void => {
        if (errors.length < 5)
          errors.push(
            `${message} ${args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ')}`.slice(
              0,
              2000,
            ),
          );
      },
    },
  };
}

type PeerAuth = ReturnType<typeof betterAuth<ReturnType<typeof authOptions>>>;

export interface PeerServer {
  url: string;
  /** The first error lines Better Auth logged (a wrong key is logged as an error). */
  readonly errors: string[];
  /** Users, sessions, API keys and sign-in accounts (seedBetterAuth). */
  seed(): Promise<PeerSeeded>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The way a server authenticates a Better Auth API key: `auth.api.verifyApiKey` (server-only, not an
 * HTTP endpoint) with the permission the route needs. It looks the key up by its hash, counts the
 * per-key limit and updates the key row, like the plugin does on every verification.
 */
async function protectedRoute(
  auth: PeerAuth,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string') return send(res, 401, { error: 'no API key' });
  const result = await auth.api.verifyApiKey({ body: { key, permissions: { users: ['read'] } } });
  if (!result.valid || !result.key)
    return send(res, 401, { error: result.error?.message ?? 'invalid API key' });
  return send(res, 200, { userId: result.key.referenceId });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('peer server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Creates the schema with Better Auth's migrations and serves it on a plain node:http server. */
export async function startBetterAuth(databaseUrl: string): Promise<PeerServer> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    application_name: 'better-auth-bench',
  });
  pool.on('error', () => {}); // an idle connection dropped (the cluster stopping): the next checkout reconnects
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handle) handle(req, res);
    else send(res, 503, { error: 'starting' });
  });
  const url = await listen(server);
  const errors: string[] = [];
  const options = authOptions(pool, url, errors);
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  const authHandler = toNodeHandler(auth);
  handle = (req, res) => {
    const done = (error: unknown): void => {
      if (!res.headersSent)
        send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    };
    if (req.url?.startsWith('/api/auth/')) authHandler(req, res).catch(done);
    else if (req.method === 'GET' && req.url === PEER_API_KEY_PATH)
      protectedRoute(auth, req, res).catch(done);
    else send(res, 404, { error: 'not found' });
  };
  return {
    url,
    errors,
    seed: () => seedBetterAuth(auth, url),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

export interface PeerSeeded {
  /** `better-auth.session_token=...` cookies from real sign-ins, one per user. */
  sessionCookies: string[];
  /** API keys minted by the plugin, one per session user, with permission users:read. */
  apiKeys: string[];
  /** E-mail addresses of the sign-in accounts (all with BENCH_PASSWORD). */
  signInEmails: string[];
  seconds: number;
}

async function inLanes<T>(
  count: number,
  lanes: number,
  work: (i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) out[i] = await work(i);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}

/** The session cookie a sign-in sets (name=value only). */
function sessionCookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie().find((c) => c.includes('session_token='));
  const pair = cookie?.split(';')[0];
  if (!pair) throw new Error(`peer sign-in set no session cookie (${response.status})`);
  return pair;
}

/**
 * POST sign-in/email as a browser's same-origin fetch sends it: a browser always sends Origin on a
 * POST, and Better Auth refuses a sign-in without one (CSRF check).
 */
export const peerSignInRequest = (origin: string, email: string): LoadRequest => ({
  method: 'POST',
  path: '/api/auth/sign-in/email',
  headers: { 'content-type': 'application/json', origin, ...FORWARDED },
  body: JSON.stringify({ email, password: BENCH_PASSWORD }),
});

async function signIn(url: string, email: string): Promise<string> {
  const request = peerSignInRequest(url, email);
  const response = await fetch(`${url}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body ?? null,
  });
  if (response.status !== 200)
    throw new Error(`peer sign-in answered ${response.status}: ${await response.text()}`);
  return sessionCookieOf(response);
}

/**
 * Users and credential accounts through Better Auth's internal adapter (what sign-up writes), all
 * with one scrypt hash of BENCH_PASSWORD made by its configured hasher; sessions by real sign-ins over
 * HTTP; API keys by the plugin's own create call.
 */
async function seedBetterAuth(auth: PeerAuth, url: string): Promise<PeerSeeded> {
  const started = performance.now();
  const context = await auth.$context;
  const hash = await context.password.hash(BENCH_PASSWORD); // the configured hasher: scrypt by default
  const userIds = await inLanes(PEER_USERS, 8, async (i) => {
    const user = await context.internalAdapter.createUser(
      { email: emailOf(i + 1), name: `Peer user ${i + 1}`, emailVerified: true },
      { method: 'email-password' },
    );
    await context.internalAdapter.linkAccount({
      userId: user.id,
      providerId: 'credential',
      accountId: user.id,
      password: hash,
    });
    return user.id;
  });
  const sessionCookies = await inLanes(PEER_SESSIONS, 4, (i) => signIn(url, emailOf(i + 1)));
  const apiKeys = await inLanes(PEER_SESSIONS, 4, async (i) => {
    const userId = userIds[i];
    if (!userId) throw new Error(`peer user ${i + 1} missing`);
    const created = await auth.api.createApiKey({
      body: { userId, name: 'bench', permissions: { users: ['read'] } },
    });
    return created.key;
  });
  const signInEmails = Array.from({ length: PEER_SIGN_IN_ACCOUNTS }, (_, i) =>
    emailOf(PEER_SESSIONS + i + 1),
  );
  return { sessionCookies, apiKeys, signInEmails, seconds: (performance.now() - started) / 1000 };
}

export const peerSessionRequests = (seeded: PeerSeeded): LoadRequest[] =>
  seeded.sessionCookies.map((cookie) => ({
    method: 'GET',
    path: '/api/auth/get-session',
    headers: { cookie, ...FORWARDED },
  }));

export const peerApiKeyRequests = (seeded: PeerSeeded): LoadRequest[] =>
  seeded.apiKeys.map((key) => ({
    method: 'GET',
    path: PEER_API_KEY_PATH,
    headers: { 'x-api-key': key, ...FORWARDED },
  }));

/** One request of each kind before measuring: each answers what it should. */
export async function checkPeer(peer: PeerServer, seeded: PeerSeeded): Promise<void> {
  const [session] = peerSessionRequests(seeded);
  const [key] = peerApiKeyRequests(seeded);
  if (!session || !key) throw new Error('peer not seeded');
  const got = await fetch(`${peer.url}${session.path}`, { headers: session.headers });
  const body = (await got.json()) as { user?: { email?: string } } | null;
  if (got.status !== 200 || body?.user?.email !== emailOf(1))
    throw new Error(`peer get-session answered ${got.status}: ${JSON.stringify(body)}`);
  const anonymous = await fetch(`${peer.url}${session.path}`, { headers: FORWARDED });
  if (anonymous.status !== 200 || (await anonymous.json()) !== null)
    throw new Error('peer get-session without a cookie found a session');
  const verified = await fetch(`${peer.url}${key.path}`, { headers: key.headers });
  if (verified.status !== 200)
    throw new Error(`peer API-key route answered ${verified.status}: ${await verified.text()}`);
  const wrong = await fetch(`${peer.url}${key.path}`, {
    headers: { ...key.headers, 'x-api-key': `${key.headers['x-api-key'] ?? ''}x` },
  });
  if (wrong.status !== 401)
    throw new Error(`peer API-key route accepted a wrong key (${wrong.status})`);
  peer.errors.length = 0; // the wrong key above was logged as an error
}

/** The installed versions, for the notes. */
export async function peerVersions(): Promise<{ betterAuth: string; apiKeyPlugin: string }> {
  const versionOf = async (specifier: string): Promise<string> => {
    const manifest = new URL(
      '../package.json',
      pathToFileURL(createRequire(import.meta.url).resolve(specifier)),
    );
    return (
      (JSON.parse(await readFile(manifest, 'utf8')) as { version?: string }).version ?? 'unknown'
    );
  };
  return {
    betterAuth: await versionOf('better-auth'),
    apiKeyPlugin: await versionOf('@better-auth/api-key'),
  };
}
