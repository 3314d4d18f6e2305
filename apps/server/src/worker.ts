/**
 * `pnpm worker`: standalone GDPR workers for scale-out. The server runs the same
 * workers in-process; any number of these may run beside it against one database (pg-boss shares
 * the queue, advisory locks keep one run per request). Needs an external database
 * (DATABASE_URL + APP_DATABASE_URL): the embedded one lives inside the server process. Refuses
 * to start with an unsafe runtime role or pending migrations (run `pnpm migrate` first). Reads
 * its configuration only through config.ts.
 */
import closeWithGrace from 'close-with-grace';
import {
  createRateLimiter,
  createRedisClient,
  metricsPlugin,
  parseKeyring,
  RedisRateLimitStore,
} from '@tessera/api';
import Fastify from 'fastify';
import { startPrivacyWorkers } from '@tessera/api/workers';
import { assertRuntimeRoleSafe, createDatabase, latestMigrationVersion } from '@tessera/db';
import { ConfigError, domainDnsOf, loadConfigFromProcess, outboundModeOf } from './config.js';
import { loadOrCreateDevSecrets } from './dev-secrets.js';

const write = (level: string, obj: object, msg: string): void =>
  void process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), msg, ...obj })}\n`,
  );
const logger = {
  info: (obj: object, msg: string): void => write('info', obj, msg),
  warn: (obj: object, msg: string): void => write('warn', obj, msg),
};

try {
  const config = loadConfigFromProcess();
  if (!config.database) {
    throw new ConfigError(
      ['DATABASE_URL', 'APP_DATABASE_URL'],
      'pnpm worker needs DATABASE_URL and APP_DATABASE_URL; with the embedded database the server runs the workers itself',
    );
  }
  const keys =
    config.secrets.DATA_ENCRYPTION_KEYS ??
    (config.nodeEnv === 'production'
      ? undefined
      : (await loadOrCreateDevSecrets(config.home)).secrets.DATA_ENCRYPTION_KEYS);
  if (!keys) throw new ConfigError(['DATA_ENCRYPTION_KEYS'], 'DATA_ENCRYPTION_KEYS is required');
  // The queue, LISTEN and the jobs' advisory locks hold session state: never through a transaction-mode pooler.
  const database = createDatabase(config.database.appDirectUrl, {
    max: 10,
    applicationName: 'tessera-worker',
  });
  await assertRuntimeRoleSafe(database.pool);
  const { rows } = await database.pool.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM public.schema_migrations',
  );
  if ((rows[0]?.version ?? 0) < latestMigrationVersion())
    throw new Error('the database has pending migrations; run pnpm migrate first');
  // METRICS_PORT: job durations and queue depth on a private listener of this worker's own.
  const metricsServer = config.metricsPort ? Fastify({ logger: false }) : null;
  if (metricsServer)
    await metricsServer.register(metricsPlugin, {
      listen: { port: config.metricsPort ?? 0 },
      token: config.secrets.METRICS_TOKEN,
      pools: { worker: database.pool },
    });
  const metrics = metricsServer?.tesseraMetrics;
  // With REDIS_URL the API's sign-in and reset counters are shared: erasure forgets the subject's
  // there too. Without it they live in each API process and expire with their window.
  const redis = config.secrets.REDIS_URL ? createRedisClient(config.secrets.REDIS_URL) : null;
  const workers = await startPrivacyWorkers({
    database,
    keyring: parseKeyring(keys),
    consoleUrl: config.publicUrl,
    logger,
    ...domainDnsOf(config),
    ...(redis ? { limiter: createRateLimiter(new RedisRateLimitStore(redis)) } : {}),
    ...(metrics
      ? {
          onJobFinished: (queue: string, outcome: string, seconds: number) =>
            metrics.jobFinished(queue, outcome, seconds),
        }
      : {}),
    dispatchIntervalMs: config.workers.dispatchIntervalMs,
    staleAfterMs: config.workers.staleAfterMs,
    webhooks: {
      outbound: {
        mode: outboundModeOf(config),
        onLoopback: (host: string) =>
          logger.warn({ host }, 'privacy webhook is loopback (allowed outside production only)'),
      },
    },
  });
  if (metricsServer && metrics) {
    metrics.watchQueues(() => workers.queueDepth());
    await metricsServer.ready();
    logger.info({ port: metrics.listenerAddress()?.port }, 'metrics listening');
  }
  logger.info({}, 'Tessera GDPR workers started');
  closeWithGrace({ delay: 30_000 }, async ({ signal, err }) => {
    if (err) write('error', { error: err.message }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await workers.stop();
    redis?.disconnect();
    await metricsServer?.close();
    await database.close();
  });
} catch (error) {
  write('error', {}, error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
