/**
 * `node bench/dist/profile.js [a|b|c|d|e|me]`: where the server's CPU goes on one request
 * scenario. Starts the bench's embedded PostgreSQL with a small directory, serves the API as
 * `pnpm bench` does, drives 50 connections from a worker thread and samples the main thread with
 * the V8 profiler meanwhile. Prints the functions and packages with the most self time; the raw
 * profile is written to the temporary folder for Chrome DevTools. PROFILE_HEAP=1 samples allocation
 * sites instead of CPU time. Writes nothing to docs/.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDatabase } from '@tessera/db';
import { apiKeyRequests, seedApiKeys } from './api-keys.js';
import { benchRouter } from './bench-router.js';
import { startBenchCluster } from './cluster.js';
import { CONNECTIONS, measureOnce } from './load.js';
import type { LoadRequest } from './load-types.js';
import { readScenarios } from './reads.js';
import { seedForReads } from './seed.js';
import {
  benchServices,
  LogSink,
  POOL_SIZE,
  SESSION_COOKIE,
  startApi,
  startBareFastify,
} from './servers.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame comes from: a package in node_modules, a workspace package, or node itself. */
function ownerOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const workspace = /\/(packages|apps|bench)\/([^/]+)\//.exec(url);
  return workspace ? `${workspace[1]}/${workspace[2]}` : url;
}

function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const where = frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where} [${ownerOf(frame.url)}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byOwner.set(ownerOf(frame.url), (byOwner.get(ownerOf(frame.url)) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const rows = (map: Map<string, number>, n: number): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${pct(us)}  ${name}`);
  return [
    'self time by package:',
    ...rows(byOwner, 25),
    '',
    'self time by function:',
    ...rows(byFunction, top),
  ].join('\n');
}

async function main(): Promise<void> {
  const scenario = process.argv[2] ?? 'b';
  const cluster = await startBenchCluster();
  const app = createDatabase(cluster.appUrl, { max: POOL_SIZE, applicationName: 'tessera-api' });
  const owner = createDatabase(cluster.ownerUrl, {
    max: POOL_SIZE,
    applicationName: 'tessera-bench-owner',
  });
  const services = benchServices();
  const sink = new LogSink();
  try {
    const sessions = await seedForReads(cluster.ownerUrl, 60, 50);
    const api = await startApi(app, benchRouter(owner), services, sink);
    let requests: LoadRequest[];
    let targetUrl = api.url;
    if (scenario === 'e')
      requests = apiKeyRequests(await seedApiKeys(app, owner, services, sessions));
    else if (scenario === 'me')
      requests = sessions.map((s) => ({
        method: 'GET',
        path: '/trpc/auth.me',
        headers: { cookie: `${SESSION_COOKIE}=${s.token}` },
      }));
    else {
      if (scenario === 'd') targetUrl = (await startBareFastify()).url;
      const found = readScenarios(api.url, targetUrl, sessions).find((s) => s.key === scenario);
      if (!found) throw new Error(`unknown scenario ${scenario}: a, b, c, d, bDrizzle, e or me`);
      requests = found.requests;
    }
    const target = {
      url: targetUrl,
      connections: CONNECTIONS,
      requests,
      rotate: scenario === 'e' ? ('global' as const) : ('per-connection' as const),
    };
    await measureOnce(target); // warm-up: JIT, pools, caches
    const session = new Session();
    session.connect();
    if (process.env.PROFILE_HEAP === '1') {
      // Where allocations come from instead of CPU: sampled allocation sites, by self size.
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        // Count what was allocated, not only what is still alive when sampling stops.
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      const heapRun = await measureOnce(target);
      const { profile: heap } = (await session.post('HeapProfiler.stopSampling')) as {
        profile: { head: HeapNode };
      };
      const sites = new Map<string, number>();
      const walk = (node: HeapNode): void => {
        const frame = node.callFrame;
        const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${path.basename(frame.url)}:${frame.lineNumber + 1}` : ''} [${ownerOf(frame.url)}]`;
        sites.set(name, (sites.get(name) ?? 0) + node.selfSize);
        for (const child of node.children) walk(child);
      };
      walk(heap.head);
      const total = [...sites.values()].reduce((a, b) => a + b, 0);
      const top = [...sites]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 40)
        .map(([name, bytes]) => `${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${name}`);
      process.stdout.write(
        `${scenario}: ${Math.round(heapRun.requestsPerSecond)} req/s; sampled allocations by site:\n${top.join('\n')}\n`,
      );
      await api.app.close();
      return;
    }
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const measured = await measureOnce(target);
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    session.disconnect();
    const file = path.join(os.tmpdir(), `tessera-${scenario}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    process.stdout.write(
      `${scenario}: ${Math.round(measured.requestsPerSecond)} req/s, ${measured.ok} ok, ${measured.non2xx} non-2xx, CPU % bench/postgres/idle ${measured.cpu ? `${Math.round(measured.cpu.bench)}/${Math.round(measured.cpu.postgres)}/${Math.round(measured.cpu.idle)}` : 'n/a'}\n\n${summarise(profile, 60)}\n\nprofile: ${file}\n`,
    );
    await api.app.close();
  } finally {
    await app.close();
    await owner.close();
    await cluster.stop();
  }
}

await main();
