/**
 * `node bench/dist/sign-in-priority.js`: a study for the event-loop target during sign-ins.
 * Runs the sign-in bench in one process as is, then with libuv's threadpool threads (where
 * Argon2id runs) lowered to nice 19, then (as root) as is again, so the event loop and PostgreSQL win the cores whenever they
 * are runnable and Argon2id gets the rest. Linux only; writes its section of docs/benchmarks.md.
 *
 * Node 20 does not name its threads, so the pool threads are found as the four that gained the
 * most CPU during a burst of Argon2id verifies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { hashPassword, OWASP_PARAMS, verifyPassword } from '@tessera/auth/passwords';
import { createDatabase } from '@tessera/db';
import { benchRouter } from './bench-router.js';
import { startBenchCluster } from './cluster.js';
import { cpuMsPer } from './cpu.js';
import { SIGN_IN_PRIORITY, writeSection } from './doc-sections.js';
import { setPostmasterPid, type Measurement } from './load.js';
import { BENCH_PASSWORD, seed } from './seed.js';
import { benchServices, LogSink, POOL_SIZE, startApi } from './servers.js';
import { signInRequests, signInThroughput, VERIFY_CONCURRENCY } from './sign-in.js';

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function threadTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(Number(tid), Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

async function lowerThreadpoolPriority(hash: string): Promise<number[]> {
  const before = threadTicks();
  await Promise.all(
    Array.from({ length: VERIFY_CONCURRENCY * 3 }, () =>
      verifyPassword({ hash, algorithm: 'argon2id' }, BENCH_PASSWORD),
    ),
  );
  const after = threadTicks();
  const busiest = [...after]
    .filter(([tid]) => tid !== process.pid)
    .map(([tid, ticks]) => [tid, ticks - (before.get(tid) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, VERIFY_CONCURRENCY)
    .map(([tid]) => tid);
  for (const tid of busiest) os.setPriority(tid, 19);
  return busiest;
}

const line = (label: string, m: Measurement): string =>
  `| ${label} | ${m.requestsPerSecond.toFixed(1)} | ${Math.round(m.latencyP50)} | ${Math.round(m.latencyP99)} | ${m.eventLoopP99Ms.toFixed(1)} | ${m.eventLoopMaxMs.toFixed(1)} | ${cpuMsPer(m.cpu, m.ok)?.toFixed(1) ?? 'n/a'} | ${Math.round(m.cpu?.foreign ?? 0)} |`;

async function main(): Promise<void> {
  const hash = await hashPassword(BENCH_PASSWORD, OWASP_PARAMS);
  const cluster = await startBenchCluster();
  setPostmasterPid(cluster.postmasterPid);
  let body = '';
  try {
    const seeded = await seed(cluster.ownerUrl, hash);
    const app = createDatabase(cluster.appUrl, { max: POOL_SIZE });
    const owner = createDatabase(cluster.ownerUrl, { max: POOL_SIZE });
    const api = await startApi(app, benchRouter(owner), benchServices(), new LogSink());
    try {
      log('sign-in, threadpool at nice 0 ...');
      const asIs = await signInThroughput(api.url, signInRequests(seeded.signInAccounts));
      const tids = await lowerThreadpoolPriority(hash);
      log(`sign-in, threadpool threads ${tids.join(', ')} at nice 19 ...`);
      const lowered = await signInThroughput(api.url, signInRequests(seeded.signInAccounts));
      // Back to nice 0 (needs root or CAP_SYS_NICE), to rule out that the second run was only warmer.
      let again: Measurement | null = null;
      try {
        for (const tid of tids) os.setPriority(tid, 0);
        log('sign-in, threadpool back at nice 0 ...');
        again = await signInThroughput(api.url, signInRequests(seeded.signInAccounts));
      } catch {
        log('(cannot lower the nice value again without privileges; skipped the control run)');
      }
      const rows = [
        line('nice 0 (today)', asIs),
        line('nice 19', lowered),
        ...(again ? [line('nice 0 again (control)', again)] : []),
      ];
      body = [
        `Written by \`node bench/dist/sign-in-priority.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: the sign-in bench above, three times in one process, with libuv's threadpool threads (where Argon2id runs) at nice 0, lowered to nice 19, and back at nice 0 as a control.`,
        '',
        '| threadpool | sign-ins/s | p50 ms | p99 ms | event-loop p99 ms | event-loop max ms | CPU ms per sign-in | other processes, % CPU |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...rows,
      ].join('\n');
      log(`\n${body}\n`);
    } finally {
      await api.app.close();
      await app.close();
      await owner.close();
    }
  } finally {
    await cluster.stop();
  }
  await writeSection(SIGN_IN_PRIORITY, '## Sign-in with a lower-priority threadpool', body);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sign-in priority study failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
