/**
 * How long a new query would wait for a connection of this pool, estimated from the pool's own
 * counters and how long connections are held. Load shedding reads it on every request: it sheds
 * overload (requests that would wait longer than a bound), not load (a queue that drains fast).
 *
 * The estimate: with an idle connection, or room to open one, nothing waits. Otherwise the
 * `waiting + 1` clients ahead of and including the newcomer are served `max` at a time, each
 * turn lasting about one mean hold time, so the newcomer waits about
 * `ceil((waiting + 1) / max) * meanHoldMs`. The mean hold time is an exponentially weighted
 * average of checkout-to-release times (the pool's 'acquire' and 'release' events), so it follows
 * a slower database within a few hundred checkouts and a single long transaction moves it little.
 */
import type pg from 'pg';

export interface PoolWaitEstimator {
  /** Milliseconds a query arriving now would wait for a connection (0: one is free). */
  estimatedWaitMs(): number;
  /** The smoothed checkout-to-release time, for metrics and tests. */
  meanHoldMs(): number;
}

/** Weight of the newest sample in the hold-time average. */
const ALPHA = 0.05;

const estimators = new WeakMap<pg.Pool, PoolWaitEstimator>();

/** One estimator per pool (its listeners are attached once, however often this is called). */
export function poolWaitEstimator(pool: pg.Pool): PoolWaitEstimator {
  const existing = estimators.get(pool);
  if (existing) return existing;
  const checkedOutAt = new WeakMap<pg.PoolClient, number>();
  let meanHold = 0;
  pool.on('acquire', (client) => checkedOutAt.set(client, performance.now()));
  pool.on('release', (_error, client) => {
    const since = checkedOutAt.get(client);
    if (since === undefined) return;
    checkedOutAt.delete(client);
    const held = performance.now() - since;
    meanHold = meanHold === 0 ? held : meanHold + ALPHA * (held - meanHold);
  });
  const max = pool.options.max ?? 10;
  const estimator: PoolWaitEstimator = {
    estimatedWaitMs: () =>
      estimateWaitMs(
        { waiting: pool.waitingCount, idle: pool.idleCount, total: pool.totalCount, max },
        meanHold,
      ),
    meanHoldMs: () => meanHold,
  };
  estimators.set(pool, estimator);
  return estimator;
}

/** The arithmetic of the estimate, pure so a test pins it. */
export function estimateWaitMs(
  pool: { waiting: number; idle: number; total: number; max: number },
  meanHoldMs: number,
): number {
  if (pool.waiting === 0 && (pool.idle > 0 || pool.total < pool.max)) return 0;
  return Math.ceil((pool.waiting + 1) / Math.max(pool.max, 1)) * meanHoldMs;
}
