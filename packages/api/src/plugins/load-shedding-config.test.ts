import { expect, test } from 'vitest';
import { defaultLoadShedding } from '../config.js';
import { loadSheddingOptionsOf } from './load-shedding.js';

const pool = { estimatedWaitMs: (): number => 0 };

test('without configured thresholds the plugin gets the shipped defaults (1 s of estimated connection wait)', () => {
  expect(loadSheddingOptionsOf(undefined, [pool])).toEqual({
    maxEventLoopDelayMs: 500,
    pools: [pool],
    maxPoolWaitMs: 1000,
    retryAfterSeconds: 5,
  });
  expect(loadSheddingOptionsOf(defaultLoadShedding, [pool])).toEqual(
    loadSheddingOptionsOf(undefined, [pool]),
  );
});

test('configured thresholds reach the plugin; an unset utilisation limit stays off', () => {
  expect(
    loadSheddingOptionsOf(
      {
        maxEventLoopDelayMs: 0,
        maxEventLoopUtilization: 0.9,
        maxPoolWaitMs: 5,
        retryAfterSeconds: 1,
      },
      [],
    ),
  ).toEqual({
    maxEventLoopDelayMs: 0,
    maxEventLoopUtilization: 0.9,
    pools: [],
    maxPoolWaitMs: 5,
    retryAfterSeconds: 1,
  });
  expect(
    loadSheddingOptionsOf(
      {
        maxEventLoopDelayMs: 100,
        maxEventLoopUtilization: undefined,
        maxPoolWaitMs: 5,
        retryAfterSeconds: 1,
      },
      [],
    ),
  ).not.toHaveProperty('maxEventLoopUtilization');
});
