/**
 * Prometheus metrics: `GET /metrics` in the text exposition format, from a registry of
 * its own (never prom-client's global one, so two servers in one process do not collide).
 *
 * Guarantees: the endpoint answers only with `Authorization: Bearer <METRICS_TOKEN>` (compared in
 * constant time) or only on a separate listener (METRICS_PORT); labels never carry request data.
 * HTTP series are labelled by the Fastify route pattern and the tRPC procedure path, checked
 * against the router's procedure list (or a strict name pattern and a cap on distinct values), so
 * ids, tokens, query strings and attacker-chosen paths cannot reach a label. Pinned by
 * metrics.test.ts. Wiring: docs/deployment.md "Metrics".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { onAuditEvent } from '@tessera/auth/audit';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ShedReason } from './load-shedding.js';

export type SignInOutcome =
  | 'signed_in'
  | 'mfa_required'
  | 'invalid_credentials'
  | 'account_locked'
  | 'account_disabled'
  | 'rate_limited'
  | 'error';
export type MfaFailureReason = 'mfa_code_invalid' | 'mfa_code_replayed';
export type ApiKeyRefusalReason =
  | 'malformed'
  | 'invalid'
  | 'revoked'
  | 'expired'
  | 'ip_not_allowed'
  | 'forbidden'
  | 'rate_limited'
  | 'quota_exhausted';
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

/** One tRPC call as the transport saw it; `reason` is the wire `error.data.reason`. */
export interface ProcedureCall {
  path: string;
  ok: boolean;
  reason?: string | undefined;
  output?: unknown;
}

export interface TesseraMetrics {
  readonly registry: Registry;
  signIn(outcome: SignInOutcome): void;
  /** A new lock (not a refused attempt while locked): call where `auth.account.locked` is audited. */
  lockout(): void;
  mfaFailure(reason: MfaFailureReason): void;
  apiKeyRefused(reason: ApiKeyRefusalReason): void;
  /** A request load shedding answered 503, by what was over its bound. */
  shed(reason: ShedReason): void;
  /** Unknown outcomes count as `other`; queue names must be short kebab-case constants. */
  jobFinished(queue: string, outcome: JobOutcome | (string & {}), durationSeconds: number): void;
  /** Reads `tessera_queue_depth` from `source` from now on (the workers start after the server). */
  watchQueues(source: () => Promise<Readonly<Record<string, number>>>): void;
  /** Derives sign-in outcomes, MFA failures and API-key refusals from finished tRPC calls. */
  observeCalls(calls: readonly ProcedureCall[]): void;
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

/** Reads the calls out of tRPC's `responseMeta({ paths, data })` without importing tRPC. */
export function callsFromTrpcResponse(
  paths: readonly string[] | undefined,
  data: readonly unknown[],
): ProcedureCall[] {
  if (!paths) return [];
  return paths.map((path, i) => {
    const item = data[i] as
      { result?: { data?: unknown }; error?: { data?: { reason?: unknown } } } | undefined;
    if (item?.error) {
      const reason = item.error.data?.reason;
      return { path, ok: false, reason: typeof reason === 'string' ? reason : undefined };
    }
    return { path, ok: item?.result !== undefined, output: item?.result?.data };
  });
}

const SIGN_IN_FAILURES = new Set<string>([
  'invalid_credentials',
  'account_locked',
  'account_disabled',
  'rate_limited',
]);
const API_KEY_REASONS: Readonly<Record<string, ApiKeyRefusalReason>> = {
  api_key_invalid: 'invalid',
  api_key_forbidden: 'forbidden',
  api_key_rate_limited: 'rate_limited',
  api_key_quota_exhausted: 'quota_exhausted',
};

/** The label for a refused key's wire reason (`api_key_*`), or null for any other code. */
export function apiKeyRefusalReasonOf(code: string): ApiKeyRefusalReason | null {
  return Object.hasOwn(API_KEY_REASONS, code) ? (API_KEY_REASONS[code] ?? null) : null;
}

function signInOutcomeOf(call: ProcedureCall): SignInOutcome {
  if (call.ok)
    return (call.output as { status?: unknown } | undefined)?.status === 'mfa_required'
      ? 'mfa_required'
      : 'signed_in';
  return call.reason !== undefined && SIGN_IN_FAILURES.has(call.reason)
    ? (call.reason as SignInOutcome)
    : 'error';
}

function createSeries(registry: Registry) {
  const registers = [registry];
  return {
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
    signIn: (outcome) => series.signIns.inc({ outcome }),
    lockout: () => series.lockouts.inc(),
    mfaFailure: (reason) => series.mfaFailures.inc({ reason }),
    apiKeyRefused: (reason) => series.apiKeyRefusals.inc({ reason }),
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
    observeCalls(calls) {
      for (const call of calls) {
        if (call.path === 'auth.signIn') metrics.signIn(signInOutcomeOf(call));
        if (call.reason === 'mfa_code_invalid' || call.reason === 'mfa_code_replayed')
          metrics.mfaFailure(call.reason);
        const keyReason = call.reason === undefined ? null : apiKeyRefusalReasonOf(call.reason);
        if (keyReason) metrics.apiKeyRefused(keyReason);
      }
    },
    listenerAddress: address,
  };
  return { metrics, series };
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

/**
 * A key refused by the api-key plugin is answered from its onRequest hook, before any handler and
 * so before tRPC sees it: count it from the answer's `error.data.reason`. Answers from a handler
 * (preHandler ran) are left to `observeCalls`, so nothing counts twice. Revoked, expired and
 * unknown keys share one wire reason (`invalid`) on purpose (no oracle); the audit log keeps the
 * finer reason per key (`api_key.refused`).
 */
function recordApiKeyRefusals(app: FastifyInstance, metrics: TesseraMetrics): void {
  const handled = new WeakSet<FastifyRequest>();
  app.addHook('preHandler', async (request) => void handled.add(request));
  app.addHook('onSend', async (request, reply, payload) => {
    if (handled.has(request) || reply.statusCode < 400 || reply.statusCode >= 500) return payload;
    if (
      !/^bearer\b/i.test(request.headers.authorization ?? '') ||
      typeof payload !== 'string' ||
      payload.length > 16_384
    )
      return payload;
    const reason = wireReasonOf(payload);
    const label = reason === null ? null : apiKeyRefusalReasonOf(reason);
    if (label) metrics.apiKeyRefused(label);
    return payload;
  });
}

/** `error.data.reason` of a tRPC-shaped error body (or the first of a batch), else null. */
function wireReasonOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as
      { error?: { data?: { reason?: unknown } } } | undefined;
    const reason = first?.error?.data?.reason;
    return typeof reason === 'string' ? reason : null;
  } catch {
    return null;
  }
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
        { logLevel: 'warn', config: { apiKey: false } },
        metricsHandler(metrics.registry, options.token),
      );
    recordHttp(app, series, options);
    recordApiKeyRefusals(app, metrics);
    // Lockouts are audited where they happen (auth accounts); the audit writer's observer seam
    // reports them without the metrics reaching into the domain code. Process-wide: two servers
    // in one process both count an event.
    const unsubscribe = onAuditEvent((notice) => {
      if (notice.action === 'auth.account.locked') metrics.lockout();
    });
    app.addHook('onClose', async () => unsubscribe());
    app.decorate('tesseraMetrics', metrics);
  },
  { name: 'tessera-metrics', fastify: '5.x' },
);
