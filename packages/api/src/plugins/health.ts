import { latestMigrationVersion, type Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface HealthOptions {
  database: Database;
}

/** How long one database probe answers every `/healthz` (the route is never throttled nor shed). */
const PROBE_TTL_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Liveness (`/healthz`) and readiness (`/readyz`). DESIGN's contract: both say `{ status, database }`.
 * `/healthz` stays 200 while the process answers, so an orchestrator never restarts every API
 * process for a database outage; its `database` field reports the last probe ('ok' or
 * 'unreachable'), one `SELECT 1` a second at most however many probes arrive. `/readyz` answers
 * 503 when the database is unreachable or a migration is pending.
 */
export const healthPlugin = fp<HealthOptions>(
  async (app: FastifyInstance, { database }) => {
    const expected = latestMigrationVersion();
    const probe = databaseProbe(database);
    app.get('/healthz', { config: { rateLimit: false, principal: false } }, async () => ({ status: 'ok', database: await probe() }));
    app.get('/readyz', { config: { rateLimit: false, principal: false } }, async (request, reply) => {
      try {
        const { rows } = await database.pool.query<{ version: number | null }>('SELECT max(version) AS version FROM public.schema_migrations');
        const current = rows[0]?.version ?? 0;
        if (current < expected) {
          return reply.code(503).send({ status: 'unavailable', database: 'ok', migrations: 'pending' });
        }
        return { status: 'ok', database: 'ok', migrations: 'current' };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
      }
    });
  },
  { name: 'tessera-health', fastify: '5.x' },
);

/** A shared, briefly cached `SELECT 1`: concurrent and repeated callers share one query. */
function databaseProbe(database: Database): () => Promise<'ok' | 'unreachable'> {
  let last: { at: number; answer: Promise<'ok' | 'unreachable'> } | null = null;
  return () => {
    const now = Date.now();
    if (last && now - last.at < PROBE_TTL_MS) return last.answer;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'unreachable'>((resolve) => (timer = setTimeout(() => resolve('unreachable'), PROBE_TIMEOUT_MS)));
    const query = database.pool.query('SELECT 1').then((): 'ok' => 'ok', (): 'unreachable' => 'unreachable');
    const answer = Promise.race([query, timeout]).finally(() => clearTimeout(timer));
    last = { at: now, answer };
    return answer;
  };
}
