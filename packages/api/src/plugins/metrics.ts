/**
 * Prometheus metrics: `GET /metrics` in the text exposition format, from a registry of
 * its own (never prom-client's global one, so two servers in one process do not collide).
 *
 * Guarantees: the endpoint answers only with `Authorization: Bearer <METRICS_TOKEN>` (compared in
 * constant time) or only on a separate listener (METRICS_PORT); labels never carry request data.
 * HTTP series are labelled by the Fastify route pattern and the tRPC procedure path, checked
 * against the router's procedure list (or a strict name pattern and a cap on distinct values), so
 * ids, tokens, query strings and attacker-chosen paths cannot reach a label. The security series
 * (sign-ins, lockouts, MFA failures, API-key refusals) count the typed outcome events the auth
 * flows publish where they decide (`@tessera/auth` outcomes.ts); no answer body is ever read.
 * Pinned by metrics.test.ts and metrics-feed.db.test.ts. Wiring: docs/deployment.md "Metrics".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  API_KEY_REFUSAL_OUTCOMES,
  MFA_FAILURE_REASONS,
  onOutcome,
  SIGN_IN_OUTCOMES,
  type OutcomeEvent,
} from '@tessera/auth';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ShedReason } from './load-shedding.js';

/** A GDPR handler's own status, or `error` when it threw (the queue retries it). */
export type JobOutcome =
  'completed' | 'failed' | 'retried' | 'blocked' | 'skipped' | 'locked' | 'error';
const JOB_OUTCOMES: ReadonlySet<string> = new Set<JobOutcome>([
  'completed',
  'failed',
  'retried',
  'blocked',
  'skipped',
  'locked',
  'error',
]);
const QUEUE_PATTERN = /^[a-z][a-z0-9-]{0,40}$/;

/** What a pg.Pool exposes about itself; a structural type so tests can pass a plain object. */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

export interface TesseraMetrics {
  readonly registry: Registry;
  /** A request load shedding answered 503, by what was over its bound. */
  shed(reason: ShedReason): void;
  /** Unknown outcomes count as `other`; queue names must be short kebab-case constants. */
  jobFinished(queue: string, outcome: JobOutcome | (string & {}), durationSeconds: number): void;
  /** Reads `tessera_queue_depth` from `source` from now on (the workers start after the server). */
  watchQueues(source: () => Promise<Readonly<Record<string, number>>>): void;
  /** The separate listener's address once listening (METRICS_PORT), else null. */
  listenerAddress(): AddressInfo | null;
}

export interface MetricsOptions {
  /** Bearer token for `/metrics`; required unless `listen` puts it on a private listener. */
  token?: string | undefined;
  /** Serve `/metrics` on its own listener instead (opened when the app is ready, closed with it). */
  listen?: { port: number; host?: string } | undefined;
  /** Known procedure paths (`Object.keys(appRouter._def.procedures)`); others count as `unknown`. */
  procedures?: readonly string[] | undefined;
  trpcPrefix?: string;
  pools?: Readonly<Record<string, PoolStats>>;
  /** Jobs waiting per queue, read at scrape time. */
  queueDepth?: () => Promise<Readonly<Record<string, number>>>;
  /** Seconds the oldest audit event no signed checkpoint covers has waited, across tenants; null if unknown. */
  auditCheckpointAgeSeconds?: () => Promise<number | null>;
  /** prom-client's process and Node.js series, incl. event-loop lag percentiles. Default true. */
  defaultMetrics?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    tesseraMetrics: TesseraMetrics;
  }
}

const PROCEDURE_PATTERN = /^[A-Za-z][A-Za-z0-9]{0,40}(\.[A-Za-z][A-Za-z0-9]{0,40}){0,3}$/;
const MAX_UNLISTED_PROCEDURES = 200;
const MAX_BATCH_LABELS = 20;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Maps a procedure path to a label value that an attacker cannot multiply. */
function procedureLabeller(known: readonly string[] | undefined): (path: string) => string {
  if (known) {
    const set = new Set(known);
    return (path) => (set.has(path) ? path : 'unknown');
  }
  const seen = new Set<string>();
  return (path) => {
    if (!PROCEDURE_PATTERN.test(path)) return 'unknown';
    if (!seen.has(path) && seen.size >= MAX_UNLISTED_PROCEDURES) return 'unknown';
    seen.add(path);
    return path;
  };
}

/** `/trpc/a.b,c.d?batch=1&input=...` -> ['a.b', 'c.d']; the query string is never read. */
export function procedurePathsOf(url: string, prefix: string): string[] {
  const path = url.split('?')[0] ?? '';
  if (!path.startsWith(`${prefix}/`)) return [];
  let names: string;
  try {
    names = decodeURIComponent(path.slice(prefix.length + 1));
  } catch {
    return ['unknown'];
  }
  const list = names.split(',');
  return list.length > MAX_BATCH_LABELS ? ['unknown'] : list;
}

function createSeries(registry: Registry) {
  const registers = [registry];
  const series = {
    requests: new Counter({
      name: 'tessera_http_requests_total',
      help: 'HTTP requests; a tRPC batch counts once per procedure.',
      labelNames: ['method', 'route', 'procedure', 'status_code'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP response time, per route and tRPC procedure (a batch observes its whole duration once per procedure).',
      labelNames: ['method', 'route', 'procedure'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    signIns: new Counter({
      name: 'tessera_sign_in_total',
      help: 'Password sign-in attempts by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    lockouts: new Counter({
      name: 'tessera_account_lockouts_total',
      help: 'Accounts newly locked after repeated failures.',
      registers,
    }),
    mfaFailures: new Counter({
      name: 'tessera_mfa_failures_total',
      help: 'Refused second-factor codes.',
      labelNames: ['reason'] as const,
      registers,
    }),
    apiKeyRefusals: new Counter({
      name: 'tessera_api_key_refusals_total',
      help: 'Refused API keys by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    shed: new Counter({
      name: 'tessera_http_shed_total',
      help: 'Requests load shedding answered 503, by the bound that was exceeded.',
      labelNames: ['reason'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'tessera_job_duration_seconds',
      help: 'Background job run time.',
      labelNames: ['queue', 'outcome'] as const,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    }),
  };
  // Every outcome's series exists from the first scrape (at 0), so rate() and absent() see it.
  for (const outcome of SIGN_IN_OUTCOMES) series.signIns.inc({ outcome }, 0);
  for (const reason of MFA_FAILURE_REASONS) series.mfaFailures.inc({ reason }, 0);
  for (const reason of API_KEY_REFUSAL_OUTCOMES) series.apiKeyRefusals.inc({ reason }, 0);
  return series;
}

function registerCallbackGauges(
  registry: Registry,
  options: MetricsOptions,
  queueDepth: () => MetricsOptions['queueDepth'],
): void {
  const registers = [registry];
  const pools = Object.entries(options.pools ?? {});
  if (pools.length > 0) {
    const field = { total: 'totalCount', idle: 'idleCount', waiting: 'waitingCount' } as const;
    for (const [suffix, key] of Object.entries(field)) {
      new Gauge({
        name: `tessera_db_pool_${suffix}`,
        help: `pg pool ${key} (clients; waiting = queries queued for a connection).`,
        labelNames: ['pool'] as const,
        registers,
        collect() {
          for (const [name, pool] of pools) this.set({ pool: name }, pool[key]);
        },
      });
    }
  }
  const { auditCheckpointAgeSeconds } = options;
  new Gauge({
    name: 'tessera_queue_depth',
    help: 'Jobs waiting per queue.',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      this.reset();
      const source = queueDepth();
      if (!source) return;
      for (const [queue, depth] of Object.entries(await source().catch(() => ({}))))
        if (QUEUE_PATTERN.test(queue)) this.set({ queue }, depth);
    },
  });
  if (auditCheckpointAgeSeconds) {
    new Gauge({
      name: 'tessera_audit_checkpoint_age_seconds',
      help: 'Seconds the oldest audit event not yet covered by a signed checkpoint has waited (0: all anchored; NaN: unknown).',
      registers,
      async collect() {
        this.set((await auditCheckpointAgeSeconds().catch(() => null)) ?? Number.NaN);
      },
    });
  }
}

type Series = ReturnType<typeof createSeries>;

function createMetrics(
  options: MetricsOptions,
  address: () => AddressInfo | null,
): { metrics: TesseraMetrics; series: Series } {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const series = createSeries(registry);
  let queueDepth = options.queueDepth;
  registerCallbackGauges(registry, options, () => queueDepth);
  const metrics: TesseraMetrics = {
    registry,
    shed: (reason) => series.shed.inc({ reason }),
    jobFinished: (queue, outcome, seconds) =>
      series.jobDuration.observe(
        {
          queue: QUEUE_PATTERN.test(queue) ? queue : 'other',
          outcome: JOB_OUTCOMES.has(outcome) ? outcome : 'other',
        },
        seconds,
      ),
    watchQueues: (source) => void (queueDepth = source),
    listenerAddress: address,
  };
  return { metrics, series };
}

/**
 * The security series, fed by the outcome events (one subscriber per server, no per-request work).
 * The switch is exhaustive: a new kind of event does not compile until it is counted here.
 */
function countOutcome(series: Series, event: OutcomeEvent): void {
  switch (event.kind) {
    case 'sign_in':
      return void series.signIns.inc({ outcome: event.outcome });
    case 'account_locked':
      return void series.lockouts.inc();
    case 'mfa_failure':
      return void series.mfaFailures.inc({ reason: event.reason });
    case 'api_key_refused':
      return void series.apiKeyRefusals.inc({ reason: event.reason });
    default:
      return event satisfies never;
  }
}

/** Constant-time token check: both sides hashed first, so lengths never differ. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (\S+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0;
}

function metricsHandler(registry: Registry, token: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string> => {
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      void reply.code(401).header('www-authenticate', 'Bearer realm="metrics"');
      return 'unauthorized\n';
    }
    void reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
    return registry.metrics();
  };
}

function recordHttp(app: FastifyInstance, series: Series, options: MetricsOptions): void {
  const prefix = options.trpcPrefix ?? '/trpc';
  const label = procedureLabeller(options.procedures);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const paths = route.startsWith(`${prefix}/`) ? procedurePathsOf(request.url, prefix) : [];
    const procedures = paths.length ? paths.map(label) : [''];
    const seconds = reply.elapsedTime / 1000;
    for (const procedure of procedures) {
      series.requests.inc({
        method: request.method,
        route,
        procedure,
        status_code: String(reply.statusCode),
      });
      series.duration.observe({ method: request.method, route, procedure }, seconds);
    }
  });
}

async function startListener(
  app: FastifyInstance,
  registry: Registry,
  options: MetricsOptions & { listen: { port: number; host?: string } },
): Promise<() => AddressInfo | null> {
  const server = Fastify({ logger: false });
  server.get('/metrics', metricsHandler(registry, options.token));
  let address: AddressInfo | null = null;
  // onReady, not onListen: Fastify does not wait for onListen hooks before listen() resolves.
  app.addHook('onReady', async () => {
    await server.listen({ port: options.listen.port, host: options.listen.host ?? '127.0.0.1' });
    address = server.server.address() as AddressInfo;
  });
  app.addHook('onClose', async () => server.close());
  return () => address;
}

export const metricsPlugin = fp<MetricsOptions>(
  async (app: FastifyInstance, options) => {
    if (options.token === undefined && options.listen === undefined) {
      throw new TypeError(
        'metrics need a token (METRICS_TOKEN) or a separate listener (METRICS_PORT)',
      );
    }
    let address: () => AddressInfo | null = () => null;
    const { metrics, series } = createMetrics(options, () => address());
    if (options.listen)
      address = await startListener(app, metrics.registry, { ...options, listen: options.listen });
    // Its bearer token is METRICS_TOKEN, not an API key: the API-key resolver skips the route.
    else
      app.get(
        '/metrics',
        { logLevel: 'warn', config: { apiKey: false, answers: 'data' } },
        metricsHandler(metrics.registry, options.token),
      );
    recordHttp(app, series, options);
    // Process-wide, like the channel: two servers in one process both count an event.
    const unsubscribe = onOutcome((event) => countOutcome(series, event));
    app.addHook('onClose', async () => unsubscribe());
    app.decorate('tesseraMetrics', metrics);
  },
  { name: 'tessera-metrics', fastify: '5.x' },
);
