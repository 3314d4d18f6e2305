/**
 * The GDPR workers on pg-boss 10 (docs/privacy.md "Queue"): the only module that knows the queue
 * library (docs/contributing.md convention 16). Any number of processes may run them against one database:
 * pg-boss hands each job to one worker (SKIP LOCKED) and completes it once, retries failures with
 * exponential backoff, and survives restarts (jobs are rows); the handlers' advisory locks and
 * idempotent steps cover what the queue cannot (no heartbeat, see gdpr-job-lock.ts).
 *
 * Requests are the source of truth, jobs only wake workers: a dispatcher lists due requests
 * through a SECURITY DEFINER function (tenant id and request id only) and sends one job per
 * request and minute (singletonKey), when a request becomes pending (LISTEN on the channel the
 * database NOTIFYs) and every `dispatchIntervalMs`. A processing request whose worker died is
 * dispatched again once it has been untouched for STALE_AFTER_MS.
 *
 * The queue schema `tessera_jobs` is installed by the migrator (migrations/0008_privacy.sql);
 * pg-boss starts with `migrate: false` and refuses a schema version it does not know.
 */
import type { Keyring } from '@tessera/auth';
import type { RateLimiter } from '@tessera/auth/rate-limit';
import type { OutboundPolicy } from '@tessera/auth/outbound';
import { createTxtLookup, type DomainDnsOptions } from '@tessera/auth/domains';
import {
  listDuePrivacyRequests,
  PRIVACY_REQUESTS_CHANNEL,
  type Database,
  type PrivacyRequestType,
} from '@tessera/db';
import PgBoss from 'pg-boss';
import { handleDeletionJob } from './gdpr-deletion.js';
import { handleExportJob } from './gdpr-export.js';
import type { GdprJobData, GdprLogger } from './gdpr-job-data.js';
import { handleMaintenanceJob } from './gdpr-maintenance.js';
import {
  dispatchWebhookDeliveries,
  handleWebhookDeliveryJob,
  WEBHOOK_CHANNEL,
  WEBHOOK_QUEUE,
  type WebhookJobData,
} from './privacy-webhook-delivery.js';
import { traceJob } from '../tracing.js';

export const JOBS_SCHEMA = 'tessera_jobs';
export const GDPR_QUEUES = {
  export: 'gdpr-export',
  deletion: 'gdpr-deletion',
  maintenance: 'gdpr-maintenance',
} as const;
const STALE_AFTER_MS = 15 * 60_000;

export interface PrivacyWorkerOptions {
  /**
   * Runtime role (RLS applies); the queue shares its pool. A direct connection, never a
   * transaction-mode pooler: pg-boss, the LISTEN below and the jobs' advisory locks hold session state.
   */
  database: Database;
  keyring: Keyring;
  consoleUrl: string;
  logger: GdprLogger;
  now?: () => Date;
  /** Concurrent jobs per queue in this process (default 2). */
  concurrency?: number;
  /** How often an idle worker polls the queue (seconds, default 2). */
  pollingIntervalSeconds?: number;
  /** Safety-net dispatch interval (default 10 s); new requests are dispatched at once via NOTIFY. */
  dispatchIntervalMs?: number;
  /** Cron for the maintenance job (default every 5 minutes). */
  maintenanceCron?: string;
  /** The API's sign-in and reset limiter (shared through Redis when configured): erasure forgets the subject's counts. */
  limiter?: RateLimiter;
  /** Privacy webhooks (Art. 19): the outbound URL rule for deliveries (default: production). */
  webhooks?: { outbound: OutboundPolicy; timeoutMs?: number };
  /** DNS for the daily re-check of verified domains (docs/domains.md); absent: the system's resolvers. */
  domainDns?: DomainDnsOptions;
  /** A processing request untouched this long is dispatched again (default 15 minutes; its advisory lock keeps a live run single). */
  staleAfterMs?: number;
  /** Each job run's queue, outcome (the handler's status, `error` when it threw) and duration, e.g. for the metrics histogram. */
  onJobFinished?: (queue: string, outcome: string, durationSeconds: number) => void;
}

export interface PrivacyWorkers {
  /** Sends a job for every due request now; returns how many were queued. */
  dispatch(): Promise<number>;
  /** Jobs waiting (created or retry) per GDPR and webhook queue, for the queue-depth gauge. */
  queueDepth(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startPrivacyWorkers(options: PrivacyWorkerOptions): Promise<PrivacyWorkers> {
  const { database, logger } = options;
  const now = options.now ?? ((): Date => new Date());
  const db = queueDb(database);
  const boss = new PgBoss({
    db,
    schema: JOBS_SCHEMA,
    migrate: false,
    supervise: true,
    schedule: true,
  });
  boss.on('error', (error: Error) => logger.warn({ error: error.message }, 'gdpr queue error'));
  await boss.start();

  const deps = {
    database,
    keyring: options.keyring,
    consoleUrl: options.consoleUrl,
    logger,
    now,
    ...(options.limiter ? { limiter: options.limiter } : {}),
  };
  const work = { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };
  for (let i = 0; i < (options.concurrency ?? 2); i += 1) {
    await boss.work<GdprJobData>(GDPR_QUEUES.export, work, async ([job]) =>
      job
        ? observeJob(GDPR_QUEUES.export, job.id, options, () => handleExportJob(job, deps))
        : null,
    );
    await boss.work<GdprJobData>(GDPR_QUEUES.deletion, work, async ([job]) =>
      job
        ? observeJob(GDPR_QUEUES.deletion, job.id, options, () => handleDeletionJob(job, deps))
        : null,
    );
    await boss.work<WebhookJobData>(WEBHOOK_QUEUE, work, async ([job]) =>
      job
        ? observeJob(WEBHOOK_QUEUE, job.id, options, () =>
            handleWebhookDeliveryJob(job, { ...deps, ...options.webhooks }),
          )
        : null,
    );
  }
  const domainLookup = createTxtLookup(options.domainDns);
  await boss.work(GDPR_QUEUES.maintenance, work, async ([job]) =>
    observeJob(GDPR_QUEUES.maintenance, job?.id ?? '', options, () =>
      handleMaintenanceJob({ ...deps, domainLookup }),
    ),
  );
  await boss.schedule(GDPR_QUEUES.maintenance, options.maintenanceCron ?? '*/5 * * * *');

  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  // One job per request per slot; a slot longer than the stale window would delay a re-dispatch.
  const singletonSeconds = Math.max(1, Math.min(60, Math.floor(staleAfterMs / 1000)));
  const dispatch = async (): Promise<number> => {
    let sent = 0;
    for (const type of ['export', 'deletion'] as const satisfies readonly PrivacyRequestType[]) {
      for (const ref of await listDuePrivacyRequests(
        database.pool,
        type,
        staleAfterMs / 1000,
        100,
      )) {
        const data: GdprJobData = { tenantId: ref.tenantId, requestId: ref.id };
        if (await boss.send(GDPR_QUEUES[type], data, { singletonKey: ref.id, singletonSeconds }))
          sent += 1;
      }
    }
    sent += await dispatchWebhookDeliveries(
      (queue, data, sendOptions) => boss.send(queue, data, sendOptions),
      database,
    );
    return sent;
  };
  const loop = createDispatchLoop(dispatch, logger, options.dispatchIntervalMs ?? 10_000);
  const listener = await listenForRequests(database, () => loop.kick(), logger);
  loop.kick();

  return {
    dispatch,
    queueDepth: async () =>
      Object.fromEntries(
        await Promise.all(
          [...Object.values(GDPR_QUEUES), WEBHOOK_QUEUE].map(
            async (queue) => [queue, await boss.getQueueSize(queue)] as const,
          ),
        ),
      ),
    stop: async () => {
      await listener.close();
      await loop.stop();
      await boss.stop({ graceful: true, wait: true, close: false, timeout: 30_000 });
    },
  };
}

/** pg-boss's statement for `createQueue` (plans.js); the runtime role may not execute it. */
const CREATE_QUEUE_SQL = `SELECT ${JOBS_SCHEMA}.create_queue($1, $2)`;

/**
 * pg-boss's connection to the runtime pool. Its cron (Timekeeper.start) asks to create its
 * `__pgboss__send-it` queue on every start and ignores the failure; every queue is made by the
 * migrator, and the runtime role may not execute create_queue, so each start left a PostgreSQL
 * "permission denied" ERROR in the log. A queue that exists already is not created again; any
 * other create_queue goes through (and fails loudly: a queue the migrator missed).
 */
function queueDb(database: Database): PgBoss.Db {
  return {
    executeSql: async (text, values) => {
      if (text === CREATE_QUEUE_SQL && (await queueExists(database, values[0])))
        return { rows: [] };
      return database.pool.query(text, values);
    },
  };
}

async function queueExists(database: Database, name: unknown): Promise<boolean> {
  if (typeof name !== 'string') return false;
  // eslint-disable-next-line tessera/no-raw-sql-interpolation -- the schema name is a constant
  const result = await database.pool.query(`SELECT 1 FROM ${JOBS_SCHEMA}.queue WHERE name = $1`, [
    name,
  ]);
  return (result.rowCount ?? 0) > 0;
}

/** Runs one job inside a `job <queue>` span and reports its outcome and duration. */
async function observeJob<T>(
  queue: string,
  jobId: string,
  options: Pick<PrivacyWorkerOptions, 'onJobFinished'>,
  run: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  let outcome = 'error';
  try {
    const result = await traceJob(queue, jobId, run);
    const status = (result as { status?: unknown } | null)?.status;
    outcome = typeof status === 'string' ? status : 'completed';
    return result;
  } finally {
    options.onJobFinished?.(queue, outcome, (performance.now() - started) / 1000);
  }
}

/** Runs `dispatch` every `intervalMs` and on kick(), never two at once. */
function createDispatchLoop(
  dispatch: () => Promise<number>,
  logger: GdprLogger,
  intervalMs: number,
): { kick(): void; stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = dispatch()
      .then(
        () => undefined,
        (error: unknown) =>
          logger.warn(
            { error: error instanceof Error ? error.message : 'unknown' },
            'gdpr dispatch failed',
          ),
      )
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    kick: run,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

const connectClient = (database: Database) => database.pool.connect();

/** LISTEN on a dedicated pooled connection; on failure the interval loop still dispatches. */
async function listenForRequests(
  database: Database,
  onNotify: () => void,
  logger: GdprLogger,
): Promise<{ close(): Promise<void> }> {
  let client: Awaited<ReturnType<typeof connectClient>> | null = null;
  try {
    client = await connectClient(database);
    client.on('notification', (message) => {
      if (message.channel === PRIVACY_REQUESTS_CHANNEL || message.channel === WEBHOOK_CHANNEL)
        onNotify();
    });
    client.on('error', (error) =>
      logger.warn({ error: error.message }, 'gdpr listener lost its connection; polling only'),
    );
    await client.query('LISTEN tessera_privacy_requests'); // = PRIVACY_REQUESTS_CHANNEL
    await client.query('LISTEN tessera_privacy_webhooks'); // = WEBHOOK_CHANNEL (deliveries queued)
  } catch (error) {
    logger.warn(
      { error: error instanceof Error ? error.message : 'unknown' },
      'gdpr listener unavailable; polling only',
    );
    client?.release(true);
    client = null;
  }
  return {
    close: async () => {
      if (!client) return;
      const held = client;
      client = null;
      await held.query('UNLISTEN *').catch(() => undefined);
      held.release(true); // never hand a LISTENing session back to the pool
    },
  };
}
