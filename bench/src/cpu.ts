/**
 * Who used the CPU during a measurement: this process (server, load generator, libuv pool), the
 * bench's PostgreSQL, and everything else on the machine. Other work on a 2-core machine changes
 * every figure, so each scenario reports it. Linux only (/proc); elsewhere the figures are null.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface CpuSnapshot {
  at: number;
  machineBusyTicks: number;
  ownMicros: number;
  /** utime + stime per PostgreSQL process. */
  postgresTicks: ReadonlyMap<number, number>;
}

export interface CpuShare {
  /** Percent of all cores' time, over the interval. */
  bench: number;
  postgres: number;
  foreign: number;
  idle: number;
  /** CPU seconds used by this process (all threads) and by the bench's PostgreSQL. */
  benchSeconds: number;
  postgresSeconds: number;
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...fields] = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

/** utime + stime of the postmaster and of each direct child (backends, background workers). */
function postgresTicks(postmasterPid: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    const ppid = Number(fields[1]);
    if (Number(entry) !== postmasterPid && ppid !== postmasterPid) continue;
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12])); // #14 utime, #15 stime
  }
  return ticks;
}

/**
 * Ticks used between two snapshots, per process: a process that exited meanwhile (an autovacuum
 * worker) is left out instead of making the sum shrink; one that started counts in full.
 */
function postgresDelta(from: ReadonlyMap<number, number>, to: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, ticks] of to) total += Math.max(0, ticks - (from.get(pid) ?? 0));
  return total;
}

export function cpuSnapshot(postmasterPid: number | null): CpuSnapshot | null {
  if (process.platform !== 'linux') return null;
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    machineBusyTicks: machineBusyTicks(),
    ownMicros: usage.user + usage.system,
    postgresTicks: postmasterPid === null ? new Map() : postgresTicks(postmasterPid),
  };
}

/**
 * CPU milliseconds the bench (server, load generator) and its PostgreSQL spent per completed
 * request: unlike req/s, this hardly moves when other processes compete for the cores.
 */
export function cpuMsPer(cpu: CpuShare | null, completed: number): number | null {
  if (!cpu || completed <= 0) return null;
  return ((cpu.benchSeconds + cpu.postgresSeconds) * 1000) / completed;
}

/** Sums several measured intervals (the slices of one scenario) into one share. */
export class CpuAccumulator {
  #capacity = 0; // core-seconds
  #busy = 0;
  #bench = 0;
  #postgres = 0;
  #valid = true;

  add(from: CpuSnapshot | null, to: CpuSnapshot | null): void {
    if (!from || !to) {
      this.#valid = false;
      return;
    }
    this.#capacity += ((to.at - from.at) / 1000) * os.availableParallelism();
    this.#busy += (to.machineBusyTicks - from.machineBusyTicks) / TICKS_PER_SECOND;
    this.#bench += (to.ownMicros - from.ownMicros) / 1e6;
    this.#postgres += postgresDelta(from.postgresTicks, to.postgresTicks) / TICKS_PER_SECOND;
  }

  share(): CpuShare | null {
    if (!this.#valid || this.#capacity <= 0) return null;
    const pct = (seconds: number): number =>
      Math.max(0, Math.min(100, (seconds / this.#capacity) * 100));
    return {
      bench: pct(this.#bench),
      postgres: pct(this.#postgres),
      foreign: pct(this.#busy - this.#bench - this.#postgres),
      idle: pct(this.#capacity - this.#busy),
      benchSeconds: this.#bench,
      postgresSeconds: this.#postgres,
    };
  }
}

export function cpuShare(from: CpuSnapshot | null, to: CpuSnapshot | null): CpuShare | null {
  const accumulator = new CpuAccumulator();
  accumulator.add(from, to);
  return accumulator.share();
}
