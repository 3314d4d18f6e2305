// Hashing must yield the cores to the event loop: the threads that run Argon2id are lowered to
// nice 19, and nothing else is (the main thread keeps its priority). Linux only.
import { expect, test } from 'vitest';
import { dummyVerify } from './dummy-verify.js';
import { HASHING_NICE, lowerHashingPriority, threadNice } from './hashing-priority.js';
import { TEST_PARAMS } from './hashing-params.js';

test.runIf(process.platform === 'linux')(
  'the threads that ran hashes are lowered to nice 19 and the main thread is not',
  async () => {
    const burst = () =>
      Promise.all(
        Array.from({ length: 16 }, () =>
          dummyVerify({ ...TEST_PARAMS, memoryCost: 8192, timeCost: 3 }),
        ),
      );
    const result = await lowerHashingPriority(burst);
    expect(['thread-name', 'cpu-burst']).toContain(result.how);
    expect(result.threads.length).toBeGreaterThanOrEqual(1);
    expect(result.threads.length).toBeLessThanOrEqual(
      Number(process.env['UV_THREADPOOL_SIZE'] ?? 4),
    );
    for (const tid of result.threads) expect(threadNice(tid)).toBe(HASHING_NICE);
    expect(result.threads).not.toContain(process.pid);
    expect(threadNice(process.pid)).toBe(0);
  },
);
