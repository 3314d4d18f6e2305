/**
 * Password hashing yields the CPU to everything else. Argon2id and bcrypt run on libuv's
 * threadpool; on a machine with as many busy pool threads as cores, they compete with the event
 * loop and PostgreSQL and every other request waits behind them (measured: event-loop p99 of
 * 60-100 ms during 50 concurrent sign-ins on 2 cores). Lowering the pool threads to nice 19 lets
 * the event loop and the database win a core whenever they are runnable, and hashing takes the
 * rest: the same study measured an event-loop p99 of 17 ms and more sign-ins per second
 * (docs/benchmarks.md "Sign-in with a lower-priority threadpool").
 *
 * Linux only (elsewhere this does nothing and says so). The pool threads are found by name where
 * Node names them (22 and later: `libuv-worker`), otherwise as the threads that gain CPU during a
 * short burst of real hashes, which run nowhere else. The pool serves file reads and DNS lookups
 * too; they wait behind queued hashes at any priority, so little changes for them. Lowering a
 * priority needs no privilege; raising it back would (the process keeps it for its lifetime).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

export const HASHING_NICE = 19;

export interface HashingPriorityResult {
  /** Thread ids lowered to `HASHING_NICE`; empty when nothing was done. */
  threads: number[];
  /** How the threads were found, or why nothing was done. */
  how: 'thread-name' | 'cpu-burst' | 'not-linux' | 'not-found';
}

interface ThreadInfo {
  tid: number;
  name: string;
  cpuTicks: number;
}

function threads(): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  for (const entry of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        tid: Number(entry),
        name: readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim(),
        cpuTicks: Number(fields[11]) + Number(fields[12]),
      });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

/** A thread's nice value (Linux), for tests and the start-up line. */
export function threadNice(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/**
 * Lowers libuv's threadpool threads to nice 19. `burst` runs real hashing work on the pool (used
 * only where threads carry no name): at least as many tasks as the pool has threads, several
 * times over, so that every pool thread runs one.
 */
export async function lowerHashingPriority(
  burst: () => Promise<unknown>,
): Promise<HashingPriorityResult> {
  if (process.platform !== 'linux') return { threads: [], how: 'not-linux' };
  const named = threads().filter((t) => t.name === 'libuv-worker');
  if (named.length > 0) return { threads: lower(named.map((t) => t.tid)), how: 'thread-name' };
  const before = new Map(threads().map((t) => [t.tid, t.cpuTicks]));
  await burst();
  const gains = threads()
    .filter((t) => t.tid !== process.pid)
    .map((t) => ({ tid: t.tid, gain: t.cpuTicks - (before.get(t.tid) ?? 0) }));
  // Pool threads each ran several hashes; a V8 helper thread that collected garbage meanwhile
  // gained a tick or two. Keep the threads within a quarter of the busiest one.
  const most = Math.max(0, ...gains.map((g) => g.gain));
  const busy = most === 0 ? [] : gains.filter((g) => g.gain * 4 >= most).map((g) => g.tid);
  return busy.length > 0
    ? { threads: lower(busy), how: 'cpu-burst' }
    : { threads: [], how: 'not-found' };
}

function lower(tids: readonly number[]): number[] {
  const done: number[] = [];
  for (const tid of tids) {
    try {
      os.setPriority(tid, HASHING_NICE);
      done.push(tid);
    } catch {
      // A thread that ended meanwhile, or a platform that refuses: hashing still works.
    }
  }
  return done;
}
