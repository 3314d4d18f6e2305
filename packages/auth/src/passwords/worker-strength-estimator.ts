/**
 * Runs zxcvbn in one worker thread behind a bounded queue, so scoring never blocks the event
 * loop and a flood of strength checks is refused (`rate_limited`) instead of queueing without
 * bound. A worker that crashes or overruns its time is terminated; the next call starts a new
 * one. The worker is unref'd while idle, so it never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import { createHashQueue } from './hash-queue.js';
import { toStrengthEstimate } from './strength-estimator.js';
import type { StrengthEstimate, StrengthEstimator } from './strength-estimator.js';
import { ZXCVBN_WORKER_SOURCE, zxcvbnWorkerData } from './zxcvbn-worker-source.js';

export interface WorkerStrengthEstimatorOptions {
  /** Checks allowed to wait behind the one running (default 32). */
  maxQueued?: number;
  /** Per check, including the worker's first start (default 10 s). */
  timeoutMs?: number;
}

export interface WorkerStrengthEstimator {
  estimate: StrengthEstimator;
  /** Stops the worker; a later `estimate` starts a new one. */
  close(): Promise<void>;
}

function startWorker(): Worker {
  const worker = new Worker(ZXCVBN_WORKER_SOURCE, {
    eval: true,
    workerData: zxcvbnWorkerData(),
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  worker.unref();
  return worker;
}

function ask(worker: Worker, request: object, timeoutMs: number): Promise<StrengthEstimate> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | null, message?: unknown): void => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', settle).off('exit', onExit).unref();
      if (error) return reject(error);
      try {
        resolve(toStrengthEstimate(message));
      } catch (failure) {
        reject(failure instanceof Error ? failure : new TypeError('malformed strength estimate'));
      }
    };
    const onMessage = (message: unknown): void => settle(null, message);
    const onExit = (code: number): void => settle(new Error(`estimator worker exited (${code})`));
    const timer = setTimeout(() => settle(new Error('strength estimation timed out')), timeoutMs);
    worker.on('message', onMessage).on('error', settle).on('exit', onExit).ref();
    worker.postMessage(request);
  });
}

export function createWorkerStrengthEstimator(
  options: WorkerStrengthEstimatorOptions = {},
): WorkerStrengthEstimator {
  const queue = createHashQueue({ concurrency: 1, maxQueued: options.maxQueued ?? 32 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let worker: Worker | null = null;

  const stop = async (): Promise<void> => {
    const current = worker;
    worker = null;
    await current?.terminate();
  };

  const estimate: StrengthEstimator = (password, userInputs) =>
    queue.run('strength', async () => {
      worker ??= startWorker();
      try {
        return await ask(worker, { password, userInputs: [...userInputs] }, timeoutMs);
      } catch (error) {
        await stop();
        throw error;
      }
    });

  return { estimate, close: stop };
}

let shared: WorkerStrengthEstimator | null = null;

/** The process-wide estimator the policy uses unless one is injected; started lazily. */
export function defaultStrengthEstimator(): StrengthEstimator {
  shared ??= createWorkerStrengthEstimator();
  return shared.estimate;
}
