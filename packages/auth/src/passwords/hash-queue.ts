/**
 * A bounded gate for expensive password work. Each Argon2id run holds its memory cost
 * (19 MiB by default) and a threadpool slot, so a sign-in flood must wait in a short queue,
 * and past that queue is refused with `rate_limited` instead of piling up without bound.
 * Pinned by `hash-queue.test.ts`.
 */
import { AuthError } from '../errors.js';

export interface HashQueueOptions {
  /** Tasks running at once; keep it at or below libuv's threadpool size (4 by default). */
  concurrency: number;
  /** Tasks allowed to wait; one more is refused. 0 refuses whenever all slots are busy. */
  maxQueued: number;
}

export interface HashQueue {
  /** Runs `task` when a slot frees up; rejects with AuthError('rate_limited') when full. */
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly running: number;
  readonly queued: number;
}

function assertOptions({ concurrency, maxQueued }: HashQueueOptions): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new TypeError('concurrency must be a positive integer');
  }
  if (!Number.isSafeInteger(maxQueued) || maxQueued < 0) {
    throw new TypeError('maxQueued must be a non-negative integer');
  }
}

export function createHashQueue(options: HashQueueOptions): HashQueue {
  assertOptions(options);
  const waiting: (() => void)[] = [];
  let running = 0;

  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) running -= 1;
    else next(); // the slot passes straight to the next task
  };

  const acquire = async (): Promise<void> => {
    if (running < options.concurrency) {
      running += 1;
      return;
    }
    if (waiting.length >= options.maxQueued) {
      throw new AuthError('rate_limited', { retryAfterSeconds: 1 });
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  };

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
    get running() {
      return running;
    },
    get queued() {
      return waiting.length;
    },
  };
}
