import { latestMigrationVersion, probeDatabase, type Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface HealthOptions {
  database: Database;
}

/**
 * Liveness (`/healthz`) and readiness (`/readyz`). The public contract (docs/design.md "Public contract"): both say `{ status, database }`.
 * `/healthz` stays 200 while the process answers, so an orchestrator never restarts every API
 * process for a database outage; its `database` field reports the last probe ('ok' or
 * 'unreachable'), one `SELECT 1` a second at most however many probes arrive (`probeDatabase`,
 * shared with the `health.check` procedure). `/readyz` answers
 * 503 when the database is unreachable or a migration is pending.
 */
export const healthPlugin = fp<HealthOptions>(
  async (app: FastifyInstance, { database }) => {
    const expected = latestMigrationVersion();
    app.get(
      '/healthz',
      { config: { rateLimit: false, principal: false, answers: 'data' } },
      async () => ({
        status: 'ok',
        database: await probeDatabase(database),
      }),
    );
    app.get(
      '/readyz',
      { config: { rateLimit: false, principal: false, answers: 'data' } },
      async (request, reply) => {
        try {
          const { rows } = await database.pool.query<{ version: number | null }>(
            'SELECT max(version) AS version FROM public.schema_migrations',
          );
          const current = rows[0]?.version ?? 0;
          if (current < expected) {
            return reply
              .code(503)
              .send({ status: 'unavailable', database: 'ok', migrations: 'pending' });
          }
          return { status: 'ok', database: 'ok', migrations: 'current' };
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
        }
      },
    );
  },
  { name: 'tessera-health', fastify: '5.x' },
);
