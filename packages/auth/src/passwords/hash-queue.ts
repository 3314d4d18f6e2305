/**
 * A bounded, fair gate for expensive password work. Each Argon2id or bcrypt run holds a libuv
 * threadpool slot (and Argon2id its memory cost), so the process runs only a few at once.
 *
 * Guarantees:
 * - Fairness: every task names a key (the tenant id). No key holds more than `maxRunningPerKey`
 *   slots (default half), and a freed slot goes to the waiting key with the fewest running tasks,
 *   then the one served least recently. One tenant flooding its own sign-ins cannot make another
 *   tenant's sign-in wait for its backlog.
 * - A wait bound: a task predicted to wait longer than `maxWaitMs` is refused at once, and one
 *   still waiting when the bound passes is refused then, both with `server_busy` (503 with
 *   Retry-After): shedding by how long a request would wait, not by queue length.
 *
 * Callers must pass the tenant id as the key (or a shared key for work before any tenant exists,
 * never a value the client picks freely). Pinned by `hash-queue.test.ts` and
 * `sign-in-fairness.security.test.ts`.
 */
import { AuthError } from '../errors.js';

export interface HashQueueOptions {
  /** Tasks running at once; keep it at or below libuv's threadpool size (4 by default). */
  concurrency: number;
  /** Slots one key may hold at once. Default: half the concurrency, at least 1. */
  maxRunningPerKey?: number | undefined;
  /** Longest wait for a slot before `server_busy`. Default: no bound. */
  maxWaitMs?: number | undefined;
  /** Tasks allowed to wait in all; one more is refused with `rate_limited`. Default: no limit. */
  maxQueued?: number | undefined;
  /** Duration assumed for a task until some have been measured. Default 50 ms. */
  initialTaskMs?: number | undefined;
}

export interface HashQueue {
  /** Runs `task` when a slot is free for `key`; rejects with `server_busy` or `rate_limited`. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  readonly running: number;
  readonly queued: number;
}

interface Waiter {
  start: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface KeyState {
  running: number;
  waiting: Waiter[];
  /** Order of this key's latest start; 0 before its first. */
  lastStartedAt: number;
}

const SMOOTHING = 0.2; // weight of the newest measured duration in the running average

function assertCount(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw new TypeError(`${name} must be an integer of at least ${min}`);
  }
}

function assertOptions(options: HashQueueOptions): void {
  assertCount(options.concurrency, 'concurrency', 1);
  assertCount(options.maxQueued, 'maxQueued', 0);
  assertCount(options.maxWaitMs, 'maxWaitMs', 0);
  assertCount(options.initialTaskMs, 'initialTaskMs', 1);
  assertCount(options.maxRunningPerKey, 'maxRunningPerKey', 1);
  if ((options.maxRunningPerKey ?? 1) > options.concurrency) {
    throw new TypeError('maxRunningPerKey must not exceed concurrency');
  }
}

function busy(waitMs: number): AuthError {
  return new AuthError('server_busy', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
}

export function createHashQueue(options: HashQueueOptions): HashQueue {
  assertOptions(options);
  const { concurrency } = options;
  const perKey = options.maxRunningPerKey ?? Math.max(1, Math.floor(concurrency / 2));
  const keys = new Map<string, KeyState>();
  let running = 0;
  let queued = 0;
  let starts = 0;
  let averageTaskMs = options.initialTaskMs ?? 50;

  const stateOf = (key: string): KeyState => {
    let state = keys.get(key);
    if (state === undefined) {
      state = { running: 0, waiting: [], lastStartedAt: 0 };
      keys.set(key, state);
    }
    return state;
  };

  const occupy = (state: KeyState): void => {
    running += 1;
    state.running += 1;
    starts += 1;
    state.lastStartedAt = starts;
  };

  /** The waiting key that gets the next free slot: fewest running, then served least recently. */
  const nextKey = (): KeyState | undefined => {
    let best: KeyState | undefined;
    for (const state of keys.values()) {
      if (state.waiting.length === 0 || state.running >= perKey) continue;
      const better =
        best === undefined ||
        state.running < best.running ||
        (state.running === best.running && state.lastStartedAt < best.lastStartedAt);
      if (better) best = state;
    }
    return best;
  };

  const dispatch = (): void => {
    for (let state = nextKey(); state && running < concurrency; state = nextKey()) {
      const waiter = state.waiting.shift();
      if (waiter === undefined) break;
      queued -= 1;
      clearTimeout(waiter.timer);
      occupy(state);
      waiter.start();
    }
  };

  /**
   * Expected wait of a new task of `state`: the tasks that start before it (its own key's and, as
   * keys take turns, as many of each other key's), spread over the slots it may use.
   */
  const predictWaitMs = (state: KeyState): number => {
    const ownTurn = state.waiting.length + 1;
    let ahead = state.waiting.length;
    for (const other of keys.values()) {
      if (other !== state) ahead += Math.min(other.waiting.length, ownTurn);
    }
    const slotsWait = ((ahead + 1) / concurrency) * averageTaskMs;
    const keyWait = state.running >= perKey ? (ownTurn / perKey) * averageTaskMs : 0;
    return Math.max(slotsWait, keyWait);
  };

  const forget = (key: string, state: KeyState): void => {
    if (state.running === 0 && state.waiting.length === 0) keys.delete(key);
  };

  const acquire = async (key: string, state: KeyState): Promise<void> => {
    if (running < concurrency && state.running < perKey && state.waiting.length === 0) {
      occupy(state);
      return;
    }
    if (options.maxQueued !== undefined && queued >= options.maxQueued) {
      throw new AuthError('rate_limited', { retryAfterSeconds: 1 });
    }
    const bound = options.maxWaitMs;
    const predicted = predictWaitMs(state);
    if (bound !== undefined && predicted > bound) throw busy(predicted);
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { start: resolve, timer: undefined };
      if (bound !== undefined) {
        waiter.timer = setTimeout(() => {
          state.waiting.splice(state.waiting.indexOf(waiter), 1);
          queued -= 1;
          forget(key, state);
          reject(busy(averageTaskMs));
        }, bound);
        waiter.timer.unref();
      }
      state.waiting.push(waiter);
      queued += 1;
    });
  };

  const release = (key: string, state: KeyState, startedAt: number): void => {
    running -= 1;
    state.running -= 1;
    const tookMs = Math.max(1, performance.now() - startedAt);
    averageTaskMs = (1 - SMOOTHING) * averageTaskMs + SMOOTHING * tookMs;
    forget(key, state);
    dispatch();
  };

  return {
    async run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const state = stateOf(key);
      try {
        await acquire(key, state);
      } catch (error) {
        forget(key, state);
        throw error;
      }
      const startedAt = performance.now();
      try {
        return await task();
      } finally {
        release(key, state, startedAt);
      }
    },
    get running() {
      return running;
    },
    get queued() {
      return queued;
    },
  };
}
