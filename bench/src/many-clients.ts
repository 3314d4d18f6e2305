/**
 * `node bench/dist/many-clients.js`: session reads (`auth.me` with the session cookie) from 50 and
 * from 1,000 concurrent clients against the API built as an operator runs it (production mode,
 * shipped load shedding, pool of 20, logs at info), with only the global per-IP limit (counted
 * per call) raised because all the load comes from one address; the sign-in limits stay as shipped. The goal for 1,000 clients: no errors and a p99
 * under 1 s. Writes its section of docs/benchmarks.md.
 */
import autocannon from 'autocannon';
import { buildServer, createServices, defaultApiConfig } from '@tessera/api';
import { generateKeyringSpec } from '@tessera/auth';
import { createDatabase } from '@tessera/db';
import { startBenchCluster } from './cluster.js';
import { MANY_CLIENTS, writeSection } from './doc-sections.js';
import { LogSink, PUBLIC_URL, RAISED_LIMIT } from './servers.js';

const SECONDS = 10;

interface Row {
  clients: number;
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

function load(url: string, cookie: string, clients: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    const statuses: Record<string, number> = {};
    const instance = autocannon({ url, connections: clients, duration: SECONDS, headers: { cookie }, timeout: 10 }, (error, result) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      resolve({ clients, perSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, ok: result['2xx'], statuses, errors: result.errors, timeouts: result.timeouts });
    });
    instance.on('response', (_client, status) => {
      if (status < 200 || status > 299) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    });
  });
}

async function main(): Promise<void> {
  const cluster = await startBenchCluster();
  const database = createDatabase(cluster.appUrl, { max: 20, applicationName: 'tessera-api' });
  const services = createServices({ dataEncryptionKeys: generateKeyringSpec(), apiKeyPeppers: generateKeyringSpec(), publicUrl: PUBLIC_URL, signupOpen: true, callLimit: { max: RAISED_LIMIT, windowMs: 60_000 } });
  const app = await buildServer({ ...defaultApiConfig, publicUrl: PUBLIC_URL, logLevel: 'info', nodeEnv: 'production', rateLimit: { max: RAISED_LIMIT, windowMs: 60_000 } }, { database, services, logStream: new LogSink() });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const signUp = await fetch(`${base}/trpc/auth.signUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: PUBLIC_URL },
      body: JSON.stringify({ tenantName: 'Load', tenantSlug: 'load-test', email: 'owner@example.com', password: 'correct horse battery staple 42' }),
    });
    const cookie = /tessera_session=[^;]+/.exec(signUp.headers.get('set-cookie') ?? '')?.[0];
    if (!cookie) throw new Error(`sign-up answered ${signUp.status} without a session cookie`);
    const rows: Row[] = [];
    for (const clients of [50, 1000]) rows.push(await load(`${base}/trpc/auth.me`, cookie, clients));
    const body = [
      `Written by \`node bench/dist/many-clients.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${process.version}): \`auth.me\` with one session cookie for ${SECONDS} s per row, autocannon on the server's own thread (its work delays the server's event loop too), API in production mode with the shipped load shedding and a pool of 20; only the global per-IP limit is raised (one address). Goal for 1,000 clients: no errors, p99 under 1 s.`,
      '',
      '| clients | req/s | p50 ms | p99 ms | 2xx | other answers | errors (timeouts) |',
      '|---:|---:|---:|---:|---:|---|---:|',
      ...rows.map((r) => `| ${r.clients.toLocaleString('en-US')} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.ok.toLocaleString('en-US')} | ${JSON.stringify(r.statuses)} | ${r.errors} (${r.timeouts}) |`),
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
