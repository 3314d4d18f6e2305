/**
 * Load shedding (issue 10): when the event loop lags or the database pool has a queue, answer
 * 503 at once with `Retry-After` and a small JSON body, instead of letting requests pile up and
 * time out. Event-loop delay, event-loop utilisation and heap come from @fastify/under-pressure
 * (sampled every `sampleIntervalMs`); pool saturation is checked on every request, synchronously,
 * from the pools' own counters, so it reacts without a timer. Liveness (`/healthz`) and
 * `/metrics` are never shed: a busy process must not be restarted for being busy, and operators
 * must see why it sheds. Password hashing has its own bounded queue (auth hash-queue.ts).
 * Pinned by load-shedding.test.ts.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { PoolStats } from './metrics.js';

export interface LoadSheddingOptions {
  /** Mean event-loop delay (ms) over one sample above which requests are shed. 0 disables. */
  maxEventLoopDelayMs: number;
  /** Event-loop utilisation (0..1) above which requests are shed; omitted disables. */
  maxEventLoopUtilization?: number;
  maxHeapUsedBytes?: number;
  /** Pools whose queue is watched; a request is shed while any has more than `maxPoolWaiting` waiting. */
  pools?: readonly PoolStats[];
  maxPoolWaiting?: number;
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

/** The first saturated pool's waiting count, or null; pure so the test pins the threshold. */
export function poolPressure(pools: readonly PoolStats[], maxWaiting: number): number | null {
  for (const pool of pools) if (pool.waitingCount > maxWaiting) return pool.waitingCount;
  return null;
}

export const loadSheddingPlugin = fp<LoadSheddingOptions>(
  async (app: FastifyInstance, options) => {
    const retryAfterSeconds = options.retryAfterSeconds ?? 5;
    const exempt = new Set(options.exemptPaths ?? ['/healthz', '/metrics']);
    const isExempt = (request: FastifyRequest): boolean => exempt.has(request.url.split('?')[0] ?? '');

    const shed = (reply: FastifyReply, reason: ShedReason): ShedBody => {
      options.onShed?.(reason);
      void reply.code(503).header('retry-after', String(retryAfterSeconds)).header('cache-control', 'no-store');
      return { error: 'service_unavailable', reason, message: 'The server is busy. Try again shortly.', retryAfterSeconds };
    };

    // Per request, before anything touches the database (register before cookies, rate limit
    // and principal resolution, which query it).
    const pools = options.pools ?? [];
    const maxWaiting = options.maxPoolWaiting ?? 0;
    if (pools.length > 0) {
      app.addHook('onRequest', async (request, reply) => {
        if (isExempt(request) || poolPressure(pools, maxWaiting) === null) return;
        request.log.warn({ reason: 'database_pool' }, 'shedding load');
        return reply.send(shed(reply, 'database_pool'));
      });
    }

    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      ...(options.maxEventLoopUtilization !== undefined ? { maxEventLoopUtilization: options.maxEventLoopUtilization } : {}),
      ...(options.maxHeapUsedBytes !== undefined ? { maxHeapUsedBytes: options.maxHeapUsedBytes } : {}),
      sampleInterval: options.sampleIntervalMs ?? 1000,
      retryAfter: retryAfterSeconds,
      // under-pressure: returning nothing lets the request through; returning a value sends it.
      pressureHandler: (request, reply, type) => {
        if (isExempt(request)) return undefined;
        const reason = TYPE_TO_REASON[type] ?? 'event_loop_delay';
        request.log.warn({ reason }, 'shedding load');
        return shed(reply, reason);
      },
    });
  },
  { name: 'tessera-load-shedding', fastify: '5.x' },
);
