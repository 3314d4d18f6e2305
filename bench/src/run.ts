/**
 * `pnpm bench`: one run, no arguments. Starts an embedded PostgreSQL in a temporary folder,
 * seeds 1,000 tenants x 1,000 users, serves the real API in-process and measures the request
 * scenarios (a)-(e) and sign-in against raw Argon2id, with Better Auth on its own database in the
 * same cluster as the peer column. Then a second process on Node 24 (npm's `node@24`, BENCH_NODE24=off
 * skips it) measures the request scenarios again on the same database, and docs/benchmarks.md is
 * written. Everything it started is stopped and deleted at the end.
 *
 * BENCH_READS_ONLY=<file> is that second process's mode: it connects to the running cluster
 * (BENCH_CLUSTER=<json>), measures the request scenarios and the peer's, and writes them to <file>.
 *
 * BENCH_QUICK=1 is a smoke run (load.ts): short slices, a smaller directory, no audit bench, and
 * the document goes to a temporary file instead of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertRuntimeRoleSafe, createDatabase, type Database } from '@tessera/db';
import {
  dummyVerify,
  hashPassword,
  lowerHashingPriority,
  OWASP_PARAMS,
} from '@tessera/auth/passwords';
import { runAuditHook } from './audit-hook.js';
import {
  DOC_PATH,
  LOGGING,
  MANY_CLIENTS,
  ROUND_TRIPS,
  SIGN_IN_PRIORITY,
  OVERVIEW,
  readDoc,
  sectionOf,
} from './doc-sections.js';
import { benchRouter } from './bench-router.js';
import { startBenchCluster, type BenchCluster } from './cluster.js';
import { notesFor } from './notes.js';
import { apiKeyRequests, checkApiKeys, seedApiKeys } from './api-keys.js';
import {
  checkPeer,
  createPeerDatabase,
  peerApiKeyRequests,
  peerSessionRequests,
  peerSignInRequest,
  peerVersions,
  startBetterAuth,
  type PeerSeeded,
  type PeerServer,
} from './peer-better-auth.js';
import {
  checkReads,
  explainReads,
  measureReads,
  readScenarios,
  type PeerKey,
  type ReadScenario,
  type ScenarioKey,
} from './reads.js';
import {
  renderConsole,
  renderMarkdown,
  type Environment,
  type OtherNode,
  type Results,
} from './report.js';
import { BENCH_PASSWORD, TENANTS, USERS_PER_TENANT, seed, type Seeded } from './seed.js';
import {
  benchServices,
  LogSink,
  POOL_SIZE,
  startApi,
  startBareFastify,
  type RunningServer,
} from './servers.js';
import { rawVerifyThroughput, signInRequests, signInThroughput } from './sign-in.js';
import { QUICK, ROUNDS, SLICE_SECONDS, setPostmasterPid, type Measurement } from './load.js';
import type { Services } from '@tessera/api-contract';

const started = performance.now();
/** Progress lines carry the elapsed time, so the run's budget (about 4 minutes) stays visible. */
const log = (line: string): void => {
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stdout.write(
    line.startsWith('\n') ? `${line}\n` : `[${String(seconds).padStart(3)} s] ${line}\n`,
  );
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
  services: Services;
  api: RunningServer;
  bare: RunningServer;
  sink: LogSink;
}

async function startStack(pg: BenchCluster): Promise<Stack> {
  const app = createDatabase(pg.appUrl, { max: POOL_SIZE, applicationName: 'tessera-api' });
  const owner = createDatabase(pg.ownerUrl, {
    max: POOL_SIZE,
    applicationName: 'tessera-bench-owner',
  });
  await assertRuntimeRoleSafe(app.pool); // the server's own start-up refusal
  const sink = new LogSink();
  const services = benchServices();
  const api = await startApi(app, benchRouter(owner), services, sink);
  const bare = await startBareFastify();
  return { app, owner, services, api, bare, sink };
}

async function stopStack(stack: Stack): Promise<void> {
  await stack.api.app.close();
  await stack.bare.app.close();
  await stack.app.close();
  await stack.owner.close();
}

type Measured = Map<ScenarioKey, Measurement & { label: string }>;

/** Tessera's scenarios (a)-(e) and the peer's request scenarios, all in one interleaved set. */
async function measureAllReads(
  stack: Stack,
  seeded: Seeded,
  apiKeys: readonly string[],
  peer: PeerServer,
  peerSeeded: PeerSeeded,
): Promise<Measured> {
  const scenarios: ReadScenario<ScenarioKey>[] = [
    ...readScenarios(stack.api.url, stack.bare.url, seeded.readSessions),
    // Both API-key scenarios share one cursor across connections, so the requests in flight use
    // different keys (the peer writes the key's row on every verification).
    {
      key: 'e',
      label: '(e) users.list with an API key (Bearer)',
      url: stack.api.url,
      requests: apiKeyRequests(apiKeys),
      rotate: 'global',
    },
    {
      key: 'peerSession',
      label: 'Better Auth GET /api/auth/get-session',
      url: peer.url,
      requests: peerSessionRequests(peerSeeded),
    },
    {
      key: 'peerApiKey',
      label: 'Better Auth verifyApiKey (GET protected route)',
      url: peer.url,
      requests: peerApiKeyRequests(peerSeeded),
      rotate: 'global',
    },
  ];
  log(
    `measuring ${scenarios.length} request scenarios, interleaved: ${ROUNDS} rounds of ${SLICE_SECONDS} s each ...`,
  );
  const measured = await measureReads(scenarios, (label, round) =>
    log(`  ${round < 0 ? 'warm-up' : `round ${round + 1}`}: ${label}`),
  );
  const out: Measured = new Map();
  for (const scenario of scenarios) {
    const m = measured.get(scenario.key) as Measurement;
    out.set(scenario.key, { ...m, label: scenario.label });
    log(
      `  ${scenario.label}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.latencyP50} ms, p99 ${m.latencyP99} ms, other processes ${Math.round(m.cpu?.foreign ?? 0)}% CPU`,
    );
  }
  return out;
}

function split(measured: Measured): {
  reads: Results['reads'];
  peer: Record<PeerKey, Measurement & { label: string }>;
} {
  const get = (key: ScenarioKey): Measurement & { label: string } => {
    const m = measured.get(key);
    if (!m) throw new Error(`scenario ${key} was not measured`);
    return m;
  };
  return {
    reads: {
      d: get('d'),
      a: get('a'),
      b: get('b'),
      c: get('c'),
      bDrizzle: get('bDrizzle'),
      e: get('e'),
      f: get('f'),
    },
    peer: { peerSession: get('peerSession'), peerApiKey: get('peerApiKey') },
  };
}

/** Better Auth on its own database in the same cluster, seeded and checked before anything is measured. */
async function startPeer(pg: BenchCluster): Promise<{ peer: PeerServer; seeded: PeerSeeded }> {
  log('starting Better Auth (peer) on its own database in the same cluster ...');
  const peer = await startBetterAuth(await createPeerDatabase(pg));
  try {
    const seeded = await peer.seed();
    log(
      `  seeded ${seeded.sessionCookies.length} sessions, ${seeded.apiKeys.length} API keys, ${seeded.signInEmails.length} sign-in accounts in ${seeded.seconds.toFixed(1)} s`,
    );
    await checkPeer(peer, seeded);
    return { peer, seeded };
  } catch (error) {
    await peer.close();
    throw error;
  }
}

async function measure(
  pg: BenchCluster,
  seeded: Seeded,
  passwordHash: string,
): Promise<
  Omit<
    Results,
    | 'seedSeconds'
    | 'runSeconds'
    | 'roundTrips'
    | 'signInPriority'
    | 'logging'
    | 'manyClients'
    | 'overview'
    | 'node24'
  >
> {
  const stack = await startStack(pg);
  let peer: PeerServer | null = null;
  try {
    const env = await environment(stack.owner);
    // As apps/server does at start (HASHING_LOW_PRIORITY=on): the threadpool runs hashes at nice 19.
    // Better Auth runs in this process too, so its scrypt gets the same treatment.
    const lowered = await lowerHashingPriority(() =>
      Promise.all(Array.from({ length: 16 }, () => dummyVerify())),
    );
    log(`hashing threads at nice 19: ${lowered.threads.length} (${lowered.how})`);
    await checkReads(stack.api.url, seeded.readSessions);
    const first = seeded.readSessions[0];
    if (!first) throw new Error('no read sessions');
    const plans = await explainReads(stack.app, stack.owner, first.tenantId);
    const apiKeys = await seedApiKeys(stack.app, stack.owner, stack.services, seeded.readSessions);
    await checkApiKeys(stack.api.url, apiKeys);
    const started = await startPeer(pg);
    peer = started.peer;
    const { reads, peer: peerReads } = split(
      await measureAllReads(stack, seeded, apiKeys, peer, started.seeded),
    );
    log('measuring raw Argon2id verify ...');
    const rawVerify = await rawVerifyThroughput(passwordHash);
    log(`  ${rawVerify.perSecond.toFixed(1)} verifies/s`);
    log('measuring auth.signIn over HTTP, 50 connections ...');
    const signIn = await signInThroughput(stack.api.url, signInRequests(seeded.signInAccounts));
    log(
      `  ${signIn.requestsPerSecond.toFixed(1)} sign-ins/s, event-loop p99 ${signIn.eventLoopP99Ms.toFixed(1)} ms`,
    );
    log('measuring Better Auth sign-in/email over HTTP, 50 connections ...');
    const peerUrl = peer.url;
    const peerSignIn = await signInThroughput(
      peerUrl,
      started.seeded.signInEmails.map((email) => peerSignInRequest(peerUrl, email)),
      'Better Auth sign-in',
    );
    log(
      `  ${peerSignIn.requestsPerSecond.toFixed(1)} sign-ins/s, event-loop p99 ${peerSignIn.eventLoopP99Ms.toFixed(1)} ms`,
    );
    const audit = QUICK
      ? 'Not measured in this run: a quick run (BENCH_QUICK=1) skips the audit bench.'
      : await runAuditHook({
          database: stack.app,
          owner: stack.owner,
          ownerUrl: pg.ownerUrl,
          appUrl: pg.appUrl,
          log,
        });
    const peerResults = {
      ...peerReads,
      signIn: peerSignIn,
      versions: await peerVersions(),
      seedSeconds: started.seeded.seconds,
    };
    return {
      env,
      reads,
      plans,
      rawVerify,
      signIn,
      peer: peerResults,
      audit,
      logLines: stack.sink.lines,
    };
  } finally {
    if (stack.sink.errors.length > 0)
      log(
        `server logged errors (first ${stack.sink.errors.length}):\n${stack.sink.errors.join('\n')}`,
      );
    if (peer && peer.errors.length > 0)
      log(`Better Auth logged errors (first ${peer.errors.length}):\n${peer.errors.join('\n')}`);
    await peer?.close();
    await stopStack(stack);
  }
}

/** The second process's run (BENCH_READS_ONLY): the request scenarios and the peer's, on a cluster of its own, seeded alike. */
async function readsOnly(file: string): Promise<void> {
  log(`request scenarios only, on ${process.version}: starting an embedded PostgreSQL ...`);
  const passwordHash = await hashPassword(BENCH_PASSWORD, OWASP_PARAMS);
  const pg = await startBenchCluster();
  setPostmasterPid(pg.postmasterPid);
  try {
    const seeded = await seed(pg.ownerUrl, passwordHash);
    log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
    const stack = await startStack(pg);
    let peer: PeerServer | null = null;
    try {
      await checkReads(stack.api.url, seeded.readSessions);
      const apiKeys = await seedApiKeys(
        stack.app,
        stack.owner,
        stack.services,
        seeded.readSessions,
      );
      await checkApiKeys(stack.api.url, apiKeys);
      const started = await startPeer(pg);
      peer = started.peer;
      const measured = split(await measureAllReads(stack, seeded, apiKeys, peer, started.seeded));
      const out: OtherNode = { node: process.version, reads: measured.reads, peer: measured.peer };
      await writeFile(file, JSON.stringify(out));
    } finally {
      await peer?.close();
      await stopStack(stack);
    }
  } finally {
    await pg.stop();
  }
}

/**
 * Runs this script again on Node 24 (npm's `node@24` package, fetched by npx from the registry)
 * in BENCH_READS_ONLY mode, after this run's cluster is gone, so the two never share the cores.
 */
async function runOnNode24(): Promise<OtherNode | string> {
  if (process.env.BENCH_NODE24 === 'off') return 'Not measured in this run (BENCH_NODE24=off).';
  const file = path.join(os.tmpdir(), `tessera-bench-node24-${process.pid}.json`);
  log('measuring the request scenarios again on Node 24 (npx -p node@24), in a second process ...');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('npx', ['-y', '-p', 'node@24', 'node', new URL(import.meta.url).pathname], {
      env: { ...process.env, BENCH_READS_ONLY: file },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => resolve(null));
    child.on('exit', (exitCode) => resolve(exitCode));
  });
  try {
    if (code !== 0)
      return `Not measured: the Node 24 process ${code === null ? 'could not start' : `exited with ${code}`}.`;
    return JSON.parse(await readFile(file, 'utf8')) as OtherNode;
  } finally {
    await rm(file, { force: true });
  }
}

async function main(): Promise<void> {
  const readsOnlyFile = process.env.BENCH_READS_ONLY;
  if (readsOnlyFile) return readsOnly(readsOnlyFile);
  log(
    `tessera bench${QUICK ? ' (quick smoke run, BENCH_QUICK=1)' : ''}: starting an embedded PostgreSQL in a temporary folder ...`,
  );
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
    log(
      `seeding ${TENANTS.toLocaleString('en-US')} tenants x ${USERS_PER_TENANT.toLocaleString('en-US')} users ...`,
    );
    const seeded = await seed(pg.ownerUrl, passwordHash);
    log(`  seeded in ${seeded.seconds.toFixed(1)} s`);
    const measured = await measure(pg, seeded, passwordHash);
    const doc = await readDoc();
    const studies = {
      roundTrips: sectionOf(doc, ROUND_TRIPS),
      signInPriority: sectionOf(doc, SIGN_IN_PRIORITY),
      logging: sectionOf(doc, LOGGING),
      manyClients: sectionOf(doc, MANY_CLIENTS),
      overview: sectionOf(doc, OVERVIEW),
    };
    results = { ...measured, ...studies, node24: '', seedSeconds: seeded.seconds, runSeconds: 0 };
  } finally {
    await pg.stop();
  }
  results.node24 = await runOnNode24();
  results.runSeconds = (performance.now() - started) / 1000;
  // A quick run's figures are not the record: they go to a temporary file.
  const target = QUICK ? path.join(os.tmpdir(), 'tessera-benchmarks-quick.md') : DOC_PATH;
  await writeFile(target, renderMarkdown(results, notesFor(results)));
  log(`\n${renderConsole(results)}\n\nwrote ${target} (${Math.round(results.runSeconds)} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
