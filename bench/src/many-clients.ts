/**
 * `node bench/dist/many-clients.js`: session reads (`auth.me` with the session cookie) from 50 and
 * from 1,000 concurrent clients (autocannon on a worker thread) against the API built as an operator runs it (production mode,
 * shipped load shedding, pool of 20, logs at info), with only the global per-IP limit (counted
 * per call) raised because all the load comes from one address; the sign-in limits stay as shipped. The goal for 1,000 clients: no errors and a p99
 * under 1 s. Writes its section of docs/benchmarks.md.
 */
import { buildServer, createServices, defaultApiConfig } from '@tessera/api';
import { generateKeyringSpec } from '@tessera/auth';
import { createDatabase } from '@tessera/db';
import { startBenchCluster } from './cluster.js';
import { MANY_CLIENTS, writeSection } from './doc-sections.js';
import { measureOnce } from './load.js';
import { LogSink, PUBLIC_URL, RAISED_LIMIT } from './servers.js';

const SECONDS = 10; // measureOnce's interval

interface Row {
  clients: number;
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  eventLoopP99: number;
  /** Requests shed so far, by reason (load shedding's own count). */
  shed: Record<string, number>;
}

const METRICS_TOKEN = 'bench-metrics-token-that-is-long-enough';

/** Requests shed so far, by reason, from the server's own counter (`tessera_http_shed_total`). */
async function shedSoFar(base: string): Promise<Record<string, number>> {
  const text = await (
    await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^tessera_http_shed_total\{reason="([a-z_]+)"\} (\d+)$/gm))
    out[match[1] as string] = Number(match[2]);
  return out;
}

/** One row: `clients` connections for SECONDS on the load generator's own thread (load.ts). */
async function load(url: string, cookie: string, clients: number): Promise<Row> {
  const before = await shedSoFar(url);
  const m = await measureOnce({
    url,
    connections: clients,
    requests: [{ method: 'GET', path: '/trpc/auth.me', headers: { cookie } }],
  });
  const after = await shedSoFar(url);
  const shed: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after))
    if (n > (before[reason] ?? 0)) shed[reason] = n - (before[reason] ?? 0);
  const statuses: Record<string, number> = {};
  for (const [status, n] of Object.entries(m.statuses))
    if (!status.startsWith('2')) statuses[status] = n;
  return {
    clients,
    perSecond: m.requestsPerSecond,
    p50: m.latencyP50,
    p99: m.latencyP99,
    ok: m.ok,
    statuses,
    errors: m.errors,
    timeouts: m.timeouts,
    eventLoopP99: m.eventLoopP99Ms,
    shed,
  };
}

async function main(): Promise<void> {
  const cluster = await startBenchCluster();
  const database = createDatabase(cluster.appUrl, { max: 20, applicationName: 'tessera-api' });
  const services = createServices({
    dataEncryptionKeys: generateKeyringSpec(),
    apiKeyPeppers: generateKeyringSpec(),
    publicUrl: PUBLIC_URL,
    signupOpen: true,
    callLimit: { max: RAISED_LIMIT, windowMs: 60_000 },
  });
  const app = await buildServer(
    {
      ...defaultApiConfig,
      publicUrl: PUBLIC_URL,
      logLevel: 'info',
      nodeEnv: 'production',
      rateLimit: { max: RAISED_LIMIT, windowMs: 60_000 },
    },
    { database, services, logStream: new LogSink(), metrics: { token: METRICS_TOKEN } },
  );
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const signUp = await fetch(`${base}/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: PUBLIC_URL },
      body: JSON.stringify({
        tenantName: 'Load',
        tenantSlug: 'load-test',
        email: 'owner@example.com',
        password: 'correct horse battery staple 42',
      }),
    });
    const cookie = /tessera_session=[^;]+/.exec(signUp.headers.get('set-cookie') ?? '')?.[0];
    if (!cookie) throw new Error(`sign-up answered ${signUp.status} without a session cookie`);
    const rows: Row[] = [];
    for (const clients of [50, 1000])
      rows.push(await load(`${base}/trpc/auth.me`, cookie, clients));
    const body = [
      `Written by \`node bench/dist/many-clients.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${process.version}): \`auth.me\` with one session cookie for ${SECONDS} s per row, autocannon on its own worker thread of the same process (it shares the 2 cores with the server and PostgreSQL), API in production mode with the shipped load shedding and a pool of 20; only the global per-IP limit is raised (one address). Goal for 1,000 clients: no errors, p99 under 1 s.`,
      '',
      '| clients | req/s | p50 ms | p99 ms | 2xx | other answers | shed, by reason | errors (timeouts) | server event-loop p99 ms |',
      '|---:|---:|---:|---:|---:|---|---|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.clients.toLocaleString('en-US')} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.ok.toLocaleString('en-US')} | ${JSON.stringify(r.statuses)} | ${JSON.stringify(r.shed)} | ${r.errors} (${r.timeouts}) | ${Math.round(r.eventLoopP99)} |`,
      ),
    ].join('\n');
    process.stdout.write(`${body}\n`);
    await writeSection(MANY_CLIENTS, '## Many clients on session reads', body);
  } finally {
    await app.close();
    await database.close();
    await cluster.stop();
  }
}

await main();
