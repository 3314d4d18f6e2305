import { describe, expect, test } from 'vitest';
import { createDatabase } from './client.js';
import { estimateWaitMs, poolWaitEstimator } from './pool-wait.js';
import { useTestDatabase } from './testing/index.js';

const t = useTestDatabase();

describe('estimated wait for a connection', () => {
  test('nothing waits while a connection is idle or can still be opened', () => {
    expect(estimateWaitMs({ waiting: 0, idle: 1, total: 20, max: 20 }, 50)).toBe(0);
    expect(estimateWaitMs({ waiting: 0, idle: 0, total: 19, max: 20 }, 50)).toBe(0);
  });

  test('a full pool makes the newcomer wait one hold time per round of `max` clients ahead of it', () => {
    expect(estimateWaitMs({ waiting: 0, idle: 0, total: 20, max: 20 }, 4)).toBe(4);
    expect(estimateWaitMs({ waiting: 19, idle: 0, total: 20, max: 20 }, 4)).toBe(4);
    expect(estimateWaitMs({ waiting: 20, idle: 0, total: 20, max: 20 }, 4)).toBe(8);
    // 1,000 clients queued on 20 connections held 2 ms each wait about 0.1 s, not "too many".
    expect(estimateWaitMs({ waiting: 999, idle: 0, total: 20, max: 20 }, 2)).toBe(100);
  });

  test('on a real pool, slow statements raise the estimate and it falls to zero once the queue drains', async () => {
    const database = createDatabase(t.appUrl, {
      max: 2,
      applicationName: 'tessera-test-pool-wait',
    });
    try {
      const estimator = poolWaitEstimator(database.pool);
      expect(poolWaitEstimator(database.pool)).toBe(estimator); // one set of listeners per pool
      expect(estimator.estimatedWaitMs()).toBe(0);
      const slow = Array.from({ length: 6 }, () => database.pool.query('SELECT pg_sleep(0.15)'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Two running, four queued; no hold time is known before the first release.
      expect(database.pool.waitingCount).toBe(4);
      await Promise.race(slow);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // The first pair was held ~150 ms: the remaining queue of ~2 waits about one more round.
      expect(estimator.meanHoldMs()).toBeGreaterThanOrEqual(140);
      expect(estimator.estimatedWaitMs()).toBeGreaterThanOrEqual(140);
      await Promise.all(slow);
      expect(estimator.estimatedWaitMs()).toBe(0);
    } finally {
      await database.close();
    }
  });
});
