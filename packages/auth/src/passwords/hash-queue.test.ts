import { describe, expect, test } from 'vitest';
import { AuthError } from '../errors.js';
import { createHashQueue } from './hash-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets queued promise callbacks run (a task start is a few microtasks after a release). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

describe('the bounded hash queue', () => {
  test('no more tasks run at once than the concurrency allows', async () => {
    const queue = createHashQueue({ concurrency: 2, maxRunningPerKey: 2 });
    const gate = deferred();
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running += 1;
      peak = Math.max(peak, running);
      await gate.promise;
      running -= 1;
    };
    const all = Promise.all(Array.from({ length: 6 }, () => queue.run('tenant-a', task)));
    await Promise.resolve();
    expect(queue.running).toBe(2);
    expect(queue.queued).toBe(4);
    gate.resolve();
    await all;
    expect(peak).toBe(2);
    expect(queue.running).toBe(0);
  });

  test('a task beyond maxQueued is refused with rate_limited, and the queue recovers', async () => {
    const queue = createHashQueue({ concurrency: 1, maxQueued: 1 });
    const gate = deferred();
    const first = queue.run('k', () => gate.promise);
    const second = queue.run('k', () => Promise.resolve('second'));
    const refused: unknown = await queue.run('k', () => Promise.resolve('third')).catch((e) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 1 });
    gate.resolve();
    await first;
    expect(await second).toBe('second');
    expect(await queue.run('k', () => Promise.resolve('later'))).toBe('later');
  });

  test('a failing task frees its slot and passes its error through', async () => {
    const queue = createHashQueue({ concurrency: 1, maxQueued: 0 });
    await expect(queue.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(queue.running).toBe(0);
    expect(await queue.run('k', () => Promise.resolve(1))).toBe(1);
  });

  test('invalid limits are refused when the queue is made', () => {
    expect(() => createHashQueue({ concurrency: 0 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 1, maxQueued: -1 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 1.5 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 4, maxWaitMs: -1 })).toThrow(TypeError);
    expect(() => createHashQueue({ concurrency: 4, maxRunningPerKey: 5 })).toThrow(TypeError);
  });
});

describe('fairness between tenants', () => {
  test('one tenant holds at most half of the slots; another tenant starts at once', async () => {
    const queue = createHashQueue({ concurrency: 4 });
    const gate = deferred();
    const flood = Array.from({ length: 8 }, () => queue.run('tenant-a', () => gate.promise));
    await settle();
    expect(queue.running).toBe(2);
    expect(queue.queued).toBe(6);
    // Tenant B is not queued behind tenant A's flood: it runs while A's tasks are all stuck.
    expect(await queue.run('tenant-b', () => Promise.resolve('b'))).toBe('b');
    expect(queue.running).toBe(2);
    gate.resolve();
    await Promise.all(flood);
  });

  test('a freed slot goes to the tenant served least recently, not to the oldest waiter', async () => {
    const queue = createHashQueue({ concurrency: 1 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const task = (name: string) => () => {
      started.push(name);
      const gate = deferred();
      gates.set(name, gate);
      return gate.promise;
    };
    const all = [
      queue.run('a', task('a1')),
      queue.run('a', task('a2')),
      queue.run('a', task('a3')),
      queue.run('b', task('b1')),
    ];
    await settle();
    for (const name of ['a1', 'b1', 'a2', 'a3']) {
      await settle();
      expect(started.at(-1)).toBe(name);
      gates.get(name)?.resolve();
    }
    await Promise.all(all);
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3']);
  });
});

describe('the wait bound', () => {
  test('a task predicted to wait longer than the bound is refused at once with server_busy', async () => {
    const queue = createHashQueue({ concurrency: 2, maxWaitMs: 1_500, initialTaskMs: 1_000 });
    const gate = deferred();
    const busy = [queue.run('a', () => gate.promise), queue.run('b', () => gate.promise)];
    // One task's worth of waiting (about 1 s) fits under the bound...
    const admitted = queue.run('a', () => Promise.resolve('admitted'));
    // ...two do not, and the refusal comes while every slot is still held.
    const refused: unknown = await queue.run('a', () => Promise.resolve('late')).catch((e) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused).toMatchObject({ code: 'server_busy' });
    expect((refused as AuthError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(queue.queued).toBe(1);
    gate.resolve();
    await Promise.all(busy);
    expect(await admitted).toBe('admitted');
  });

  test('a task still waiting when the bound passes is refused then and leaves the queue', async () => {
    const queue = createHashQueue({ concurrency: 1, maxWaitMs: 30, initialTaskMs: 1 });
    const gate = deferred();
    const stuck = queue.run('a', () => gate.promise);
    const waiting: unknown = await queue.run('b', () => Promise.resolve('never')).catch((e) => e);
    expect(waiting).toMatchObject({ code: 'server_busy' });
    expect(queue.queued).toBe(0);
    gate.resolve();
    await stuck;
    expect(await queue.run('b', () => Promise.resolve('next'))).toBe('next');
  });
});
