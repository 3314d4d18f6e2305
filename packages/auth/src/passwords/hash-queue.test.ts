import { describe, expect, test } from 'vitest';
import { AuthError } from '../errors.js';
import { createHashQueue } from './hash-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('the bounded hash queue', () => {
  test('no more tasks run at once than the concurrency allows', async () => {
    const queue = createHashQueue({ concurrency: 2, maxQueued: 10 });
    const gate = deferred();
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running += 1;
      peak = Math.max(peak, running);
      await gate.promise;
      running -= 1;
    };
    const all = Promise.all(Array.from({ length: 6 }, () => queue.run(task)));
    await Promise.resolve();
    expect(queue.running).toBe(2);
    expect(queue.queued).toBe(4);
    gate.resolve();
    await all;
    expect(peak).toBe(2);
    expect(queue.running).toBe(0);
  });

  test('a task beyond the queue is refused with rate_limited, and the queue recovers', async () => {
    const queue = createHashQueue({ concurrency: 1, maxQueued: 1 });
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    const second = queue.run(() => Promise.resolve('second'));
    const refused: unknown = await queue.run(() => Promise.resolve('third')).catch((e) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 1 });
    gate.resolve();
    await first;
    expect(await second).toBe('second');
    expect(await queue.run(() => Promise.resolve('later'))).toBe('later');
  });

  test('a failing task frees its slot and passes its error through', async () => {
    const queue = createHashQueue({ concurrency: 1, maxQueued: 0 });
    await expect(queue.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(queue.running).toBe(0);
    expect(await queue.run(() => Promise.resolve(1))).toBe(1);
  });

  test('invalid limits are refused when the queue is made', () => {
    expect(() => createHashQueue({ concurrency: 0, maxQueued: 1 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 1, maxQueued: -1 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 1.5, maxQueued: 1 })).toThrow(TypeError);
  });
});
