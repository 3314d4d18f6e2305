import { afterAll, describe, expect, test } from 'vitest';
import { toStrengthEstimate } from './strength-estimator.js';
import { createWorkerStrengthEstimator } from './worker-strength-estimator.js';

const estimator = createWorkerStrengthEstimator({ maxQueued: 1 });

afterAll(async () => {
  await estimator.close();
});

describe('zxcvbn in a worker thread', () => {
  test('a common password scores 0 and a long passphrase 4, with English feedback', async () => {
    const weak = await estimator.estimate('password', []);
    expect(weak.score).toBe(0);
    expect(weak.warning).toMatch(/used password/);
    const strong = await estimator.estimate('violet tractor umbrella minus', []);
    expect(strong).toEqual({ score: 4, warning: null, suggestions: [] });
  });

  test('user inputs count as known words', async () => {
    const alone = await estimator.estimate('zorbulon-quexi', []);
    const known = await estimator.estimate('zorbulon-quexi', ['zorbulon', 'quexi']);
    expect(known.score).toBeLessThan(alone.score);
  });

  test('checks beyond the queue are refused with rate_limited', async () => {
    const results = await Promise.allSettled(
      ['first-check-here', 'second-check', 'third-check'].map((p) => estimator.estimate(p, [])),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(results[2]).toMatchObject({ reason: { code: 'rate_limited' } });
  });

  test('a closed or timed-out worker is replaced on the next call', async () => {
    await estimator.close();
    expect((await estimator.estimate('password', [])).score).toBe(0);
    const impatient = createWorkerStrengthEstimator({ timeoutMs: 1 });
    await expect(impatient.estimate('password', [])).rejects.toThrow(/timed out/);
    await impatient.close();
  });

  test('a malformed answer from the worker is an error, never a score', () => {
    expect(() => toStrengthEstimate({ score: 5, warning: null, suggestions: [] })).toThrow(
      TypeError,
    );
    expect(() => toStrengthEstimate({ score: 3, warning: 1, suggestions: [] })).toThrow(TypeError);
    expect(() => toStrengthEstimate(null)).toThrow(TypeError);
    expect(toStrengthEstimate({ score: 3, warning: null, suggestions: ['x'] })).toEqual({
      score: 3,
      warning: null,
      suggestions: ['x'],
    });
  });
});
