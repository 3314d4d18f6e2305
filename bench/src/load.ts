/**
 * Runs autocannon on a worker thread and watches this thread's event loop and the machine's CPU
 * meanwhile. Scenarios are measured in interleaved slices in rotating order, so a change in
 * background load during the run, or the after-effects of one scenario on the next, hit every
 * scenario alike instead of one of them.
 */
import * as os from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { CpuAccumulator, cpuSnapshot, type CpuShare, type CpuSnapshot } from './cpu.js';
import type { LoadMessage, LoadSpec } from './load-types.js';

/**
 * BENCH_QUICK=1: a smoke run that proves every scenario works end to end (1 s slices, short
 * warm-ups, a smaller directory). Its figures are not comparable with a full run's.
 */
export const QUICK = process.env.BENCH_QUICK === '1';
export const CONNECTIONS = 50;
export const WARMUP_SECONDS = QUICK ? 0.5 : 2;
/** Interleaved scenarios: ROUNDS slices of SLICE_SECONDS each (DURATION_SECONDS in total). */
export const ROUNDS = 4;
export const DURATION_SECONDS = QUICK ? ROUNDS : 10;
export const SLICE_SECONDS = DURATION_SECONDS / ROUNDS;
/** Every slice opens new connections; let them settle before counting. */
const SLICE_WARMUP_SECONDS = QUICK ? 0.25 : 0.5;

/**
 * Round r's order: forward, backward, then both again rotated by half the list, so every target
 * sits at every depth of the round and behind different neighbours about equally often.
 */
export function roundOrder<K>(keys: readonly K[], round: number): K[] {
  const shift = Math.floor(round / 2) * Math.ceil(keys.length / 2);
  const rotated = keys.map((_, i) => keys[(i + shift) % keys.length] as K);
  return round % 2 === 0 ? rotated : rotated.reverse();
}

export interface Measurement {
  requestsPerSecond: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  seconds: number;
  /** Responses per HTTP status. */
  statuses: Record<string, number>;
  /** p99 and max delay of the server's event loop (this thread) while measuring, in ms. */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** CPU use while measuring, null off Linux. */
  cpu: CpuShare | null;
}

export type LoadTarget = Omit<LoadSpec, 'warmupSeconds' | 'durationSeconds'>;

let postmasterPid: number | null = null;
/** The bench's PostgreSQL, whose processes count as "postgres" in the CPU shares. */
export function setPostmasterPid(pid: number | null): void {
  postmasterPid = pid;
}
export const benchPostmasterPid = (): number | null => postmasterPid;

class Accumulated {
  readonly raws: unknown[] = [];
  seconds = 0;
  readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  readonly cpu = new CpuAccumulator();
}

function runSlice(spec: LoadSpec, into: Accumulated): Promise<void> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: spec });
  return new Promise<void>((resolve, reject) => {
    let from: CpuSnapshot | null = null;
    let settled = false;
    worker.on('message', (message: LoadMessage) => {
      if (message.type === 'measuring') {
        from = cpuSnapshot(postmasterPid);
        into.loop.enable();
        return;
      }
      into.loop.disable();
      into.cpu.add(from, cpuSnapshot(postmasterPid));
      into.raws.push(message.raw);
      into.seconds += message.seconds;
      settled = true;
      resolve();
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

/** autocannon's own aggregation of several runs (the one its worker mode uses). */
const aggregate = (
  autocannon as unknown as {
    aggregateResult(this: void, results: unknown[], opts: object): autocannon.Result;
  }
).aggregateResult;

function finish(target: LoadTarget, acc: Accumulated): Measurement {
  const result = aggregate(acc.raws, { url: target.url, connections: target.connections });
  return {
    requestsPerSecond: acc.seconds > 0 ? result.requests.total / acc.seconds : 0,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    seconds: acc.seconds,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]),
    ),
    eventLoopP99Ms: acc.loop.percentile(99) / 1e6,
    eventLoopMaxMs: acc.loop.max / 1e6,
    cpu: acc.cpu.share(),
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a target without measuring it (JIT, pools, plans, caches). */
async function warm(target: LoadTarget, seconds: number): Promise<void> {
  await runSlice({ ...target, warmupSeconds: 0, durationSeconds: seconds }, new Accumulated());
}

/**
 * Measures every target for DURATION_SECONDS in ROUNDS slices (order: roundOrder), after one
 * unmeasured pass over all of them: whichever target came first would otherwise pay for the
 * process's JIT warm-up. `onSlice` reports progress.
 */
export async function measureInterleaved<K extends string>(
  targets: ReadonlyMap<K, LoadTarget>,
  onSlice?: (key: K, round: number) => void,
): Promise<Map<K, Measurement>> {
  const keys = [...targets.keys()];
  for (const key of keys) {
    onSlice?.(key, -1);
    await warm(targets.get(key) as LoadTarget, WARMUP_SECONDS);
    await pause(300);
  }
  const acc = new Map(keys.map((key) => [key, new Accumulated()] as const));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const key of roundOrder(keys, round)) {
      onSlice?.(key, round);
      const target = targets.get(key) as LoadTarget;
      await runSlice(
        { ...target, warmupSeconds: SLICE_WARMUP_SECONDS, durationSeconds: SLICE_SECONDS },
        acc.get(key) as Accumulated,
      );
      await pause(300); // requests cut off at the end of a slice drain before the next one
    }
  }
  return new Map(
    keys.map((key) => [key, finish(targets.get(key) as LoadTarget, acc.get(key) as Accumulated)]),
  );
}

/**
 * Uninterrupted measurements (sign-in) last 10 s in a quick run too: the first 50 sign-ins start
 * together, and on a busy machine their first answers can take longer than a short slice.
 */
const ONCE_SECONDS = 10;

/** One target, one uninterrupted ONCE_SECONDS (the caller warms up). */
export async function measureOnce(target: LoadTarget): Promise<Measurement> {
  const acc = new Accumulated();
  await runSlice({ ...target, warmupSeconds: 0, durationSeconds: ONCE_SECONDS }, acc);
  return finish(target, acc);
}

/** A run whose answers were not all 2xx measured something else; stop instead of reporting it. */
export function assertAllOk(name: string, m: Measurement): void {
  if (m.non2xx > 0 || m.errors > 0) {
    const detail = `${name}: ${m.ok} ok, ${m.non2xx} non-2xx ${JSON.stringify(m.statuses)}, ${m.errors} errors (${m.timeouts} timeouts)`;
    // A smoke run on a busy machine may see load shedding; it still shows the scenario runs.
    if (QUICK) process.stderr.write(`quick run, not fatal: ${detail}\n`);
    else throw new Error(`${detail}; the figures would be meaningless`);
  }
}

/** 1-minute load average, for the report header. */
export const loadAverage = (): number => os.loadavg()[0] ?? 0;
