import { expect, test } from 'vitest';
import { defaultLoadShedding } from '../config.js';
import { loadSheddingOptionsOf } from './load-shedding.js';

const pool = { totalCount: 20, idleCount: 0, waitingCount: 0 };

test('without configured thresholds the plugin gets the original defaults', () => {
  expect(loadSheddingOptionsOf(undefined, [pool])).toEqual({ maxEventLoopDelayMs: 500, pools: [pool], maxPoolWaiting: 20, retryAfterSeconds: 5 });
  expect(loadSheddingOptionsOf(defaultLoadShedding, [pool])).toEqual(loadSheddingOptionsOf(undefined, [pool]));
});

test('configured thresholds reach the plugin; an unset utilisation limit stays off', () => {
  expect(loadSheddingOptionsOf({ maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0.9, maxPoolWaiting: 5, retryAfterSeconds: 1 }, [])).toEqual({ maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0.9, pools: [], maxPoolWaiting: 5, retryAfterSeconds: 1 });
  expect(loadSheddingOptionsOf({ maxEventLoopDelayMs: 100, maxEventLoopUtilization: undefined, maxPoolWaiting: 5, retryAfterSeconds: 1 }, [])).not.toHaveProperty('maxEventLoopUtilization');
});
