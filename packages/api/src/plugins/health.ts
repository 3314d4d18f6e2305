import { latestMigrationVersion, type Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface HealthOptions {
  database: Database;
}

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: database reachable, migrations current). */
export const healthPlugin = fp<HealthOptions>(
  async (app: FastifyInstance, { database }) => {
    const expected = latestMigrationVersion();
    app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { config: { rateLimit: false } }, async (request, reply) => {
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
