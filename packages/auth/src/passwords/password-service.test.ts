import { describe, expect, test } from 'vitest';
import { createHashQueue } from './hash-queue.js';
import { TEST_PARAMS } from './hashing-params.js';
import { createPasswordService } from './password-service.js';
import type { StrengthEstimator } from './strength-estimator.js';

const estimator: StrengthEstimator = async () => ({ score: 4, warning: null, suggestions: [] });
const STRONG = 'violet tractor umbrella minus';

describe('the password service used by account flows', () => {
  test('a hash it makes verifies, and an unknown user gets the dummy verify', async () => {
    const service = createPasswordService({ params: TEST_PARAMS, estimator });
    const hash = await service.hash(STRONG, 'tenant-a');
    expect(await service.verify({ hash, algorithm: 'argon2id' }, STRONG, 'tenant-a')).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await service.verify(null, STRONG, 'tenant-a')).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  test('hashing work that would wait beyond the bound is refused with server_busy', async () => {
    const queue = createHashQueue({ concurrency: 1, maxWaitMs: 0 });
    const service = createPasswordService({ params: TEST_PARAMS, queue, estimator });
    const results = await Promise.allSettled([
      service.hash(STRONG, 'tenant-a'),
      service.verify(null, STRONG, 'tenant-b'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(results[1]).toMatchObject({ reason: { code: 'server_busy' } });
  });

  test('strength and assertAcceptable give the same verdict, breach check included', async () => {
    const breachCheck = async (password: string): Promise<boolean> => password === STRONG;
    const service = createPasswordService({ params: TEST_PARAMS, estimator, breachCheck });
    const context = { minLength: 15, tenantSlug: 'acme-rockets' };
    expect(await service.strength(STRONG, context)).toMatchObject({ reason: 'breached' });
    await expect(service.assertAcceptable(STRONG, context)).rejects.toMatchObject({
      code: 'weak_password',
    });
    await expect(service.assertAcceptable(`${STRONG} again`, context)).resolves.toBeUndefined();
  });
});

test('the default queue hashes one password per core, never more than the 4 threadpool threads', async () => {
  const { availableParallelism } = await import('node:os');
  const { defaultHashConcurrency } = await import('./password-service.js');
  expect(defaultHashConcurrency()).toBe(Math.min(4, Math.max(1, availableParallelism())));
  expect(defaultHashConcurrency()).toBeGreaterThanOrEqual(1);
});
