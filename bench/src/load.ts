/** Runs one autocannon measurement on a worker thread and watches this thread's event loop meanwhile. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { LoadMessage, LoadSpec, LoadSummary } from './load-types.js';

export interface Measurement extends LoadSummary {
  /** p99 delay of the server's event loop (this thread) during the measured interval, in ms. */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
}

export const CONNECTIONS = 50;
export const WARMUP_SECONDS = 2;
export const DURATION_SECONDS = 10;

export function runLoad(spec: LoadSpec): Promise<Measurement> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: spec });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  return new Promise<Measurement>((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: LoadMessage) => {
      if (message.type === 'measuring') {
        loop.enable();
        return;
      }
      loop.disable();
      settled = true;
      resolve({ ...message.summary, eventLoopP99Ms: loop.percentile(99) / 1e6, eventLoopMaxMs: loop.max / 1e6 });
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with ${code} before reporting`));
    });
  });
}

/** A run whose answers were not all 2xx measured something else; stop instead of reporting it. */
export function assertAllOk(name: string, m: Measurement): void {
  if (m.non2xx > 0 || m.errors > 0 || m.ok === 0) {
    throw new Error(`${name}: ${m.ok} ok, ${m.non2xx} non-2xx, ${m.errors} errors (${m.timeouts} timeouts); the figures would be meaningless`);
  }
}
