/**
 * `pnpm bench`: one run, no arguments. Starts an embedded PostgreSQL in a temporary folder,
 * seeds 1,000 tenants x 1,000 users, serves the real API in-process and measures (issue 2) the
 * request scenarios (a)-(d) and (issue 4) sign-in against raw Argon2id, then writes
 * docs/benchmarks.md. Everything it started is stopped and deleted at the end.
 */
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { assertRuntimeRoleSafe, createDatabase, type Database } from '@tessera/db';
import { hashPassword, OWASP_PARAMS } from '@tessera/auth/passwords';
import { runAuditHook } from './audit-hook.js';
import { DOC_PATH, ROUND_TRIPS, SIGN_IN_PRIORITY, readDoc, sectionOf } from './doc-sections.js';
import { benchRouter } from './bench-router.js';
import { startBenchCluster, type BenchCluster } from './cluster.js';
import { notesFor } from './notes.js';
import { checkReads, explainReads, measureReads, readScenarios } from './reads.js';
import { renderConsole, renderMarkdown, type Environment, type Results } from './report.js';
import { BENCH_PASSWORD, seed, type Seeded } from './seed.js';
import { benchServices, LogSink, POOL_SIZE, startApi, startBareFastify, type RunningServer } from './servers.js';
import { rawVerifyThroughput, signInThroughput } from './sign-in.js';
import { ROUNDS, SLICE_SECONDS, setPostmasterPid, type Measurement } from './load.js';

const started = performance.now();
/** Progress lines carry the elapsed time, so the run's budget (about 4 minutes) stays visible. */
const log = (line: string): void => {
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(line.startsWith('\n') ? `${line}\n` : `[${String(seconds).padStart(3)} s] ${line}\n`);
};

async function environment(owner: Database): Promise<Environment> {
  const { rows } = await owner.pool.query<{ server_version: string }>('SHOW server_version');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
  };
}

interface Stack {
  app: Database;
  owner: Database;
  api: RunningServer;
  bare: RunningServer;
  sink: LogSink;
}

async function startStack(pg: BenchCluster): Promise<Stack> {
  const app = createDatabase(pg.appUrl, { max: POOL_SIZE, applicationName: 'tessera-api' });
  const owner = createDatabase(pg.ownerUrl, { max: POOL_SIZE, applicationName: 'tessera-bench-owner' });
  await assertRuntimeRoleSafe(app.pool); // the server's own start-up refusal
  const sink = new LogSink();
  const api = await startApi(app, benchRouter(owner), benchServices(), sink);
  const bare = await startBareFastify();
  return { app, owner, api, bare, sink };
}

async function stopStack(stack: Stack): Promise<void> {
  await stack.api.app.close();
  await stack.bare.app.close();
  await stack.app.close();
  await stack.owner.close();
}

async function measureAllReads(stack: Stack, seeded: Seeded): Promise<Results['reads']> {
  const scenarios = readScenarios(stack.api.url, stack.bare.url, seeded.readSessions);
  log(`measuring ${scenarios.length} request scenarios, interleaved: ${ROUNDS} rounds of ${SLICE_SECONDS} s each ...`);
  const measured = await measureReads(scenarios, (label, round) => log(`  ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${label}`));
  const reads = {} as Results['reads'];
  for (const scenario of scenarios) {
    const m = measured.get(scenario.key) as Measurement;
    reads[scenario.key] = { ...m, label: scenario.label };
    log(`  ${scenario.label}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.latencyP50} ms, p99 ${m.latencyP99} ms, other processes ${Math.round(m.cpu?.foreign ?? 0)}% CPU`);
  }
  return reads;
}

async function measure(pg: BenchCluster, seeded: Seeded, passwordHash: string): Promise<Omit<Results, 'seedSeconds' | 'runSeconds' | 'roundTrips' | 'signInPriority'>> {
  const stack = await startStack(pg);
  try {
    const env = await environment(stack.owner);
    await checkReads(stack.api.url, seeded.readSessions);
    const first = seeded.readSessions[0];
    if (!first) throw new Error('no read sessions');
    const plans = await explainReads(stack.app, stack.owner, first.tenantId);
    const reads = await measureAllReads(stack, seeded);
    log('measuring raw Argon2id verify ...');
    const rawVerify = await rawVerifyThroughput(passwordHash);
    log(`  ${rawVerify.perSecond.toFixed(1)} verifies/s`);
    log('measuring auth.signIn over HTTP, 50 connections ...');
    const signIn = await signInThroughput(stack.api.url, seeded.signInAccounts);
    log(`  ${signIn.requestsPerSecond.toFixed(1)} sign-ins/s, event-loop p99 ${signIn.eventLoopP99Ms.toFixed(1)} ms`);
    const audit = await runAuditHook({ database: stack.app, owner: stack.owner, ownerUrl: pg.ownerUrl, appUrl: pg.appUrl, log });
    return { env, reads, plans, rawVerify, signIn, audit, logLines: stack.sink.lines };
  } finally {
    if (stack.sink.errors.length > 0) log(`server logged errors (first ${stack.sink.errors.length}):\n${stack.sink.errors.join('\n')}`);
    await stopStack(stack);
  }
}

async function main(): Promise<void> {
  log('tessera bench: starting an embedded PostgreSQL in a temporary folder ...');
  const passwordHash = await hashPassword(BENCH_PASSWORD, OWASP_PARAMS);
  const pg = await startBenchCluster();
  setPostmasterPid(pg.postmasterPid);
  const stopOnSignal = (): void => {
    void pg.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  let results: Results;
  try {
    log('seeding 1,000 tenants x 1,000 users ...');
    const seeded = await seed(pg.ownerUrl, passwordHash);
    log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
    const measured = await measure(pg, seeded, passwordHash);
    const doc = await readDoc();
    const studies = { roundTrips: sectionOf(doc, ROUND_TRIPS), signInPriority: sectionOf(doc, SIGN_IN_PRIORITY) };
    results = { ...measured, ...studies, seedSeconds: seeded.seconds, runSeconds: (performance.now() - started) / 1000 };
  } finally {
    await pg.stop();
  }
  await writeFile(DOC_PATH, renderMarkdown(results, notesFor(results)));
  log(`\n${renderConsole(results)}\n\nwrote ${DOC_PATH} (${Math.round(results.runSeconds)} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
