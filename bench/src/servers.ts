/**
 * The servers under test, in this process: the real API (`buildServer` with the bench router)
 * and a bare Fastify route for reference. Limits are raised, never removed: every call still
 * goes through the real rate limiter, only with a higher threshold.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AnyRouter } from '@trpc/server';
import { buildServer, createServices, defaultApiConfig, type ApiConfig } from '@tessera/api';
import type { Services } from '@tessera/api-contract';
import { generateKeyringSpec } from '@tessera/auth';
import type { RateLimiter } from '@tessera/auth/rate-limit';
import type { Database } from '@tessera/db';

/** Replaces every limit (global per-IP, per-call, sign-in per IP and per account). */
export const RAISED_LIMIT = 1_000_000_000;
export const PUBLIC_URL = 'http://localhost:3000';
export const SESSION_COOKIE = 'tessera_session'; // the name for an http://localhost PUBLIC_URL
/**
 * Connections per pool: apps/server's default (DATABASE_POOL_MAX=20), for (b) and (c) alike (the
 * owner pool of (c) gets the same size). Load shedding stays at its shipped default: it sheds a
 * request only when its estimated wait for a connection exceeds 1 s.
 */
export const POOL_SIZE = 20;

/** Same limiter (same counting work per call), thresholds raised for a single load-generating IP. */
function raisedLimiter(inner: RateLimiter): RateLimiter {
  return {
    hit: (key, rule, now) => inner.hit(key, { ...rule, max: RAISED_LIMIT }, now),
    forget: (key, rule, now) => inner.forget(key, rule, now),
  };
}

export function benchServices(): Services {
  const base = createServices({
    dataEncryptionKeys: generateKeyringSpec(),
    apiKeyPeppers: generateKeyringSpec(),
    publicUrl: PUBLIC_URL,
    signupOpen: true,
    callLimit: { max: RAISED_LIMIT, windowMs: 60_000 },
  });
  return { ...base, accounts: { ...base.accounts, limiter: raisedLimiter(base.accounts.limiter) } };
}

/**
 * Logs at the production level (info: two lines per request) into a sink, so their cost is
 * measured without flooding the terminal; error lines are kept for the report.
 */
export class LogSink extends Writable {
  readonly errors: string[] = [];
  lines = 0;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    const text = chunk.toString();
    this.lines += 1;
    if (this.errors.length < 5 && /"level":(50|60)/.test(text))
      this.errors.push(text.slice(0, 2000));
    callback();
  }
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
}

async function listen(app: FastifyInstance): Promise<RunningServer> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}` };
}

export async function startApi(
  database: Database,
  router: AnyRouter,
  services: Services,
  sink: LogSink,
): Promise<RunningServer> {
  const config: ApiConfig = {
    ...defaultApiConfig,
    publicUrl: PUBLIC_URL,
    logLevel: 'info',
    rateLimit: { max: RAISED_LIMIT, windowMs: 60_000 },
    nodeEnv: 'production',
  };
  const app = await buildServer(config, { database, services, router, logStream: sink });
  return listen(app);
}

/** (d): Fastify with no plugins and no logger, one route returning a constant. */
export async function startBareFastify(): Promise<RunningServer> {
  const app = Fastify({ logger: false });
  app.get('/constant', async () => ({ status: 'ok' }));
  return listen(app);
}
