/**
 * Load shedding: when the event loop lags or a request would wait too long for a database
 * connection, answer 503 at once with `Retry-After` and a small JSON body, instead of letting
 * requests pile up and time out. Event-loop delay, event-loop utilisation and heap come from
 * @fastify/under-pressure (sampled every `sampleIntervalMs`); the database is checked on every
 * request, synchronously, from each pool's estimated queue wait (@tessera/db pool-wait.ts: the
 * queue ahead times how long connections are held), so it reacts without a timer and sheds
 * overload, not load: a long queue that drains in milliseconds is served. Liveness (`/healthz`) and
 * `/metrics` are never shed: a busy process must not be restarted for being busy, and operators
 * must see why it sheds. Password hashing has its own bounded queue (auth hash-queue.ts).
 * Pinned by load-shedding.test.ts.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { defaultLoadShedding, type LoadSheddingThresholds } from '../config.js';
import type { PoolWaitEstimator } from '@tessera/db';

export interface LoadSheddingOptions {
  /** Mean event-loop delay (ms) over one sample above which requests are shed. 0 disables. */
  maxEventLoopDelayMs: number;
  /** Event-loop utilisation (0..1) above which requests are shed; omitted disables. */
  maxEventLoopUtilization?: number;
  maxHeapUsedBytes?: number;
  /** Pools watched; a request is shed while any would make it wait more than `maxPoolWaitMs`. */
  pools?: readonly Pick<PoolWaitEstimator, 'estimatedWaitMs'>[];
  maxPoolWaitMs?: number;
  retryAfterSeconds?: number;
  sampleIntervalMs?: number;
  /** Paths (without query) that are always served. Default: /healthz and /metrics. */
  exemptPaths?: readonly string[];
  /** Called once per shed request, e.g. to count it. */
  onShed?: (reason: ShedReason) => void;
}

export type ShedReason = 'event_loop_delay' | 'event_loop_utilization' | 'heap' | 'database_pool';

export interface ShedBody {
  error: 'service_unavailable';
  reason: ShedReason;
  message: string;
  retryAfterSeconds: number;
}

const TYPE_TO_REASON: Readonly<Record<string, ShedReason>> = {
  eventLoopDelay: 'event_loop_delay',
  eventLoopUtilization: 'event_loop_utilization',
  heapUsedBytes: 'heap',
  rssBytes: 'heap',
  healthCheck: 'database_pool',
};

/** Plugin options from the configured thresholds (ApiConfig.loadShedding; defaults unchanged). */
export function loadSheddingOptionsOf(
  thresholds: LoadSheddingThresholds | undefined,
  pools: readonly Pick<PoolWaitEstimator, 'estimatedWaitMs'>[],
): LoadSheddingOptions {
  const t = thresholds ?? defaultLoadShedding;
  return {
    maxEventLoopDelayMs: t.maxEventLoopDelayMs,
    ...(t.maxEventLoopUtilization !== undefined
      ? { maxEventLoopUtilization: t.maxEventLoopUtilization }
      : {}),
    pools,
    maxPoolWaitMs: t.maxPoolWaitMs,
    retryAfterSeconds: t.retryAfterSeconds,
  };
}

/** The first pool's estimated wait above the bound (ms), or null; pure so the test pins the threshold. */
export function poolPressure(
  pools: readonly Pick<PoolWaitEstimator, 'estimatedWaitMs'>[],
  maxWaitMs: number,
): number | null {
  for (const pool of pools) {
    const wait = pool.estimatedWaitMs();
    if (wait > maxWaitMs) return wait;
  }
  return null;
}

type PressureHandler = (request: FastifyRequest, reply: FastifyReply, type: string) => void;

/**
 * under-pressure sends what the handler returns and then stops the hook chain; returning nothing
 * lets the request through (exempt paths). Its typings say `void`; a value-returning function
 * is assignable to that, and the value is what under-pressure's code sends.
 */
function pressureHandler(
  isExempt: (request: FastifyRequest) => boolean,
  shed: (reply: FastifyReply, reason: ShedReason) => ShedBody,
): PressureHandler {
  const handler = (
    request: FastifyRequest,
    reply: FastifyReply,
    type: string,
  ): ShedBody | undefined => {
    if (isExempt(request)) return undefined;
    const reason = TYPE_TO_REASON[type] ?? 'event_loop_delay';
    request.log.warn({ reason }, 'shedding load');
    return shed(reply, reason);
  };
  return handler;
}

export const loadSheddingPlugin = fp<LoadSheddingOptions>(
  async (app: FastifyInstance, options) => {
    const sampleIntervalMs = options.sampleIntervalMs ?? 1000;
    // under-pressure samples the loop every 10 ms; an interval too short to hold samples reads as
    // an infinite delay and would shed everything.
    if (options.maxEventLoopDelayMs > 0 && sampleIntervalMs < 100)
      throw new TypeError('sampleIntervalMs must be at least 100 when maxEventLoopDelayMs is set');
    const retryAfterSeconds = options.retryAfterSeconds ?? 5;
    const exempt = new Set(options.exemptPaths ?? ['/healthz', '/metrics']);
    const isExempt = (request: FastifyRequest): boolean =>
      exempt.has(request.url.split('?')[0] ?? '');

    const shed = (reply: FastifyReply, reason: ShedReason): ShedBody => {
      options.onShed?.(reason);
      void reply
        .code(503)
        .header('retry-after', String(retryAfterSeconds))
        .header('cache-control', 'no-store');
      return {
        error: 'service_unavailable',
        reason,
        message: 'The server is busy. Try again shortly.',
        retryAfterSeconds,
      };
    };

    // Per request, before anything touches the database (register before cookies, rate limit
    // and principal resolution, which query it).
    const pools = options.pools ?? [];
    const maxWaitMs = options.maxPoolWaitMs ?? defaultLoadShedding.maxPoolWaitMs;
    if (pools.length > 0) {
      // Callback style on purpose: not calling done() ends the hook chain even while async
      // onSend hooks are still writing the 503 (an async hook would let later hooks run).
      app.addHook('onRequest', (request, reply, done) => {
        if (isExempt(request) || poolPressure(pools, maxWaitMs) === null) return done();
        request.log.warn({ reason: 'database_pool' }, 'shedding load');
        void reply.send(shed(reply, 'database_pool'));
      });
    }

    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      ...(options.maxEventLoopUtilization !== undefined
        ? { maxEventLoopUtilization: options.maxEventLoopUtilization }
        : {}),
      ...(options.maxHeapUsedBytes !== undefined
        ? { maxHeapUsedBytes: options.maxHeapUsedBytes }
        : {}),
      sampleInterval: sampleIntervalMs,
      retryAfter: retryAfterSeconds,
      pressureHandler: pressureHandler(isExempt, shed),
    });
  },
  { name: 'tessera-load-shedding', fastify: '5.x' },
);
