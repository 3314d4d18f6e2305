/** Renders docs/benchmarks.md and the console summary from one run's figures. */
import { VERIFY_CONCURRENCY, type RawVerify } from './sign-in.js';
import { cpuMsPer, type CpuShare } from './cpu.js';
import { LOGGING, MANY_CLIENTS, OVERVIEW, ROUND_TRIPS, SIGN_IN_PRIORITY } from './doc-sections.js';
import { DURATION_SECONDS, QUICK, SLICE_SECONDS, type Measurement } from './load.js';
import { PEER_USERS } from './peer-better-auth.js';
import { TENANTS, USERS_PER_TENANT } from './seed.js';
import type { PeerKey, ReadKey } from './reads.js';

export interface Environment {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  postgres: string;
}

/** Better Auth, measured in the same run on the same cluster with the same load (peer-better-auth.ts). */
export interface PeerResults extends Record<PeerKey, Measurement & { label: string }> {
  signIn: Measurement;
  versions: { betterAuth: string; apiKeyPlugin: string };
  seedSeconds: number;
}

export interface Results {
  env: Environment;
  seedSeconds: number;
  reads: Record<ReadKey, Measurement & { label: string }>;
  plans: { rls: string; plain: string };
  rawVerify: RawVerify;
  signIn: Measurement;
  peer: PeerResults;
  /** Markdown of the audit bench, or why it is missing. */
  audit: string;
  /** The studies' sections as round-trips.ts and sign-in-priority.ts last wrote them (kept across runs). */
  roundTrips: string | null;
  signInPriority: string | null;
  /** The security overview's aggregates (overview.js), kept as that script wrote them. */
  overview: string | null;
  logging: string | null;
  manyClients: string | null;
  /** The request scenarios again on Node 24 (a child process of the same run), or why not. */
  node24: OtherNode | string;
  logLines: number;
  runSeconds: number;
}

/** The request scenarios measured by a child process on another Node version (run.ts). */
export interface OtherNode {
  node: string;
  reads: Record<ReadKey, Measurement & { label: string }>;
  peer: Record<PeerKey, Measurement & { label: string }>;
}

export interface Check {
  name: string;
  value: string;
  target: string;
  pass: boolean | null;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : String(Math.round(n)));
const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

const cpuMs = (m: Measurement): number | null => cpuMsPer(m.cpu, m.ok);
/** a's throughput relative to b's, judged by CPU cost per request (b's cost / a's cost). */
const cpuRatio = (a: number | null, b: number | null): string =>
  a && b ? (b / a).toFixed(2) : 'n/a';

/** docs/design.md "Performance budget": Tessera's throughput over the peer's, measured in the same run. */
export const PEER_GOALS = { session: 3, apiKey: 3, signIn: 4 } as const;

export interface PeerComparison {
  name: string;
  peerLabel: string;
  tesseraLabel: string;
  peer: number;
  tessera: number;
  goal: number;
}

export function peerComparisons(r: Results): PeerComparison[] {
  return [
    {
      name: 'session read',
      peerLabel: 'GET /api/auth/get-session (cookie)',
      tesseraLabel: '(b) bench.rls, session cookie',
      peer: r.peer.peerSession.requestsPerSecond,
      tessera: r.reads.b.requestsPerSecond,
      goal: PEER_GOALS.session,
    },
    {
      name: 'who is signed in',
      peerLabel: 'GET /api/auth/get-session (cookie)',
      tesseraLabel: '(f) auth.me, session cookie',
      peer: r.peer.peerSession.requestsPerSecond,
      tessera: r.reads.f.requestsPerSecond,
      goal: PEER_GOALS.session,
    },
    {
      name: 'API-key call',
      peerLabel: 'route calling `auth.api.verifyApiKey`',
      tesseraLabel: '(e) users.list, Bearer key',
      peer: r.peer.peerApiKey.requestsPerSecond,
      tessera: r.reads.e.requestsPerSecond,
      goal: PEER_GOALS.apiKey,
    },
    {
      name: 'sign-in',
      peerLabel: 'POST /api/auth/sign-in/email (scrypt)',
      tesseraLabel: '`auth.signIn` (Argon2id OWASP)',
      peer: r.peer.signIn.requestsPerSecond,
      tessera: r.signIn.requestsPerSecond,
      goal: PEER_GOALS.signIn,
    },
  ];
}

const perSecond = (n: number): string => (n < 100 ? n.toFixed(1) : int(n));

export function checks(r: Results): Check[] {
  const rps = (key: ReadKey): number => r.reads[key].requestsPerSecond;
  const bc = ratio(rps('b'), rps('c'));
  const signIn = ratio(r.signIn.requestsPerSecond, r.rawVerify.perSecond);
  return [
    {
      name: '(b) / (c): RLS read vs same read without RLS or transaction',
      value: bc.toFixed(2),
      target: '>= 0.90',
      pass: bc >= 0.9,
    },
    {
      name: '(b) / (c) by CPU cost per request (less sensitive to other load)',
      value: cpuRatio(cpuMs(r.reads.b), cpuMs(r.reads.c)),
      target: '(reference)',
      pass: null,
    },
    {
      name: "(b') / (c): the same with drizzle's query builder",
      value: ratio(rps('bDrizzle'), rps('c')).toFixed(2),
      target: '(reference)',
      pass: null,
    },
    {
      name: '(b) / (a): RLS read vs health.check',
      value: ratio(rps('b'), rps('a')).toFixed(2),
      target: '(reference)',
      pass: null,
    },
    {
      name: '(c) / (d): plain read through tRPC vs bare Fastify',
      value: ratio(rps('c'), rps('d')).toFixed(2),
      target: '(reference)',
      pass: null,
    },
    {
      name: `(a) / (d): health.check through tRPC vs bare Fastify (${r.env.node})`,
      value: ratio(rps('a'), rps('d')).toFixed(2),
      target: '>= 0.50',
      pass: ratio(rps('a'), rps('d')) >= 0.5,
    },
    ...node24Checks(r),
    {
      name: 'sign-in / raw Argon2id verify',
      value: signIn.toFixed(2),
      target: '>= 0.90',
      pass: signIn >= 0.9,
    },
    {
      name: 'sign-in / raw verify by CPU cost per operation',
      value: cpuRatio(cpuMs(r.signIn), cpuMsPer(r.rawVerify.cpu, r.rawVerify.verifies)),
      target: '(reference)',
      pass: null,
    },
    {
      name: 'event-loop p99 during 50 concurrent sign-ins',
      value: `${ms(r.signIn.eventLoopP99Ms)} ms`,
      target: '< 20 ms',
      pass: r.signIn.eventLoopP99Ms < 20,
    },
    ...peerComparisons(r).map((c) => ({
      name: `${c.tesseraLabel} vs ${c.goal}x Better Auth ${c.name} (measured in this run: ${perSecond(c.peer)} req/s)`,
      value: `${perSecond(c.tessera)} req/s (${ratio(c.tessera, c.peer).toFixed(2)}x)`,
      target: `>= ${perSecond(c.goal * c.peer)} req/s`,
      pass: c.peer > 0 && c.tessera >= c.goal * c.peer,
    })),
  ];
}

/** Node 24's (a)/(d) goal and its peer ratios, from the child run. */
function node24Checks(r: Results): Check[] {
  const other = r.node24;
  if (typeof other === 'string')
    return [
      { name: '(a) / (d) on Node 24', value: 'not measured', target: '>= 0.75', pass: false },
    ];
  const ad = ratio(other.reads.a.requestsPerSecond, other.reads.d.requestsPerSecond);
  const session = ratio(other.reads.b.requestsPerSecond, other.peer.peerSession.requestsPerSecond);
  const apiKey = ratio(other.reads.e.requestsPerSecond, other.peer.peerApiKey.requestsPerSecond);
  return [
    {
      name: `(a) / (d): health.check through tRPC vs bare Fastify (${other.node})`,
      value: ad.toFixed(2),
      target: '>= 0.75',
      pass: ad >= 0.75,
    },
    {
      name: `(b) session read vs Better Auth get-session (${other.node})`,
      value: `${session.toFixed(2)}x`,
      target: '>= 3x',
      pass: session >= 3,
    },
    {
      name: `(e) API-key call vs Better Auth verifyApiKey (${other.node})`,
      value: `${apiKey.toFixed(2)}x`,
      target: '>= 3x',
      pass: apiKey >= 3,
    },
  ];
}

/** Both Node versions side by side, scenario by scenario. */
function node24Table(r: Results): string[] {
  const other = r.node24;
  if (typeof other === 'string') return [other];
  const rows: [string, Measurement, Measurement][] = [
    ...READ_KEYS.map((key): [string, Measurement, Measurement] => [
      r.reads[key].label,
      r.reads[key],
      other.reads[key],
    ]),
    [r.peer.peerSession.label, r.peer.peerSession, other.peer.peerSession],
    [r.peer.peerApiKey.label, r.peer.peerApiKey, other.peer.peerApiKey],
  ];
  return [
    `The request scenarios again, in a second process on ${other.node} (npm's \`node@24\`), right after the ${r.env.node} run (whose database is gone by then), on a database of its own seeded alike, with the same load. Both columns are one run each; compare ratios within a column.`,
    '',
    `| scenario | ${r.env.node} req/s | ${other.node} req/s | ${r.env.node} p99 ms | ${other.node} p99 ms |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      ([label, a, b]) =>
        `| ${label} | ${int(a.requestsPerSecond)} | ${int(b.requestsPerSecond)} | ${ms(a.latencyP99)} | ${ms(b.latencyP99)} |`,
    ),
  ];
}

const cpuCell = (cpu: CpuShare | null): string =>
  cpu
    ? `${Math.round(cpu.bench)} / ${Math.round(cpu.postgres)} / ${Math.round(cpu.foreign)} / ${Math.round(cpu.idle)}`
    : 'n/a';

/** Largest share of the machine that processes outside the bench used during any measurement. */
export function maxForeignCpu(r: Results): number {
  const shares = [
    ...Object.values(r.reads).map((m) => m.cpu),
    r.rawVerify.cpu,
    r.signIn.cpu,
    r.peer.peerSession.cpu,
    r.peer.peerApiKey.cpu,
    r.peer.signIn.cpu,
  ];
  return Math.max(0, ...shares.map((cpu) => cpu?.foreign ?? 0));
}

/** When other processes hit (b) and (c) unequally, the throughput ratio is skewed; say which figure to trust. */
function disturbedPair(r: Results): string[] {
  const b = r.reads.b.cpu?.foreign ?? 0;
  const c = r.reads.c.cpu?.foreign ?? 0;
  if (Math.abs(b - c) <= 10) return [];
  return [
    `  **(b) and (c) were disturbed unequally (other processes ${Math.round(b)}% vs ${Math.round(c)}% of the CPU): in this run the ratio by CPU cost per request is the more reliable one.**`,
  ];
}

const verdict = (c: Check): string => (c.pass === null ? '' : c.pass ? 'pass' : '**FAIL**');

const READ_KEYS = ['d', 'a', 'b', 'c', 'bDrizzle', 'e', 'f'] as const;

function requestRow(m: Measurement & { label: string }): string {
  const cost = cpuMs(m);
  return `| ${m.label} | ${int(m.requestsPerSecond)} | ${ms(m.latencyP50)} | ${ms(m.latencyP99)} | ${int(m.ok)} | ${ms(m.eventLoopP99Ms)} | ${cost === null ? 'n/a' : cost.toFixed(2)} | ${cpuCell(m.cpu)} |`;
}

const REQUEST_HEADER = [
  '| scenario | req/s | p50 ms | p99 ms | requests (all 2xx) | server event-loop p99 ms | CPU ms per request | CPU % bench / postgres / other / idle |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
];

function readTable(r: Results): string[] {
  return [...REQUEST_HEADER, ...READ_KEYS.map((key) => requestRow(r.reads[key]))];
}

/** The comparison, then the peer's own figures in the same shape as Tessera's. */
function peerTables(r: Results): string[] {
  const p = r.peer;
  const s = p.signIn;
  return [
    `Better Auth ${p.versions.betterAuth} with @better-auth/api-key ${p.versions.apiKeyPlugin}, on its own database in the same PostgreSQL cluster, measured in this run with the same load (the request scenarios interleaved with (a)-(e), sign-in right after Tessera's).`,
    '',
    '| comparison | Better Auth | req/s | Tessera | req/s | Tessera / Better Auth | goal | result |',
    '|---|---|---:|---|---:|---:|---|---|',
    ...peerComparisons(r).map((c) => {
      const x = ratio(c.tessera, c.peer);
      return `| ${c.name} | ${c.peerLabel} | ${perSecond(c.peer)} | ${c.tesseraLabel} | ${perSecond(c.tessera)} | ${x.toFixed(2)}x | >= ${c.goal}x (${perSecond(c.goal * c.peer)} req/s) | ${c.peer > 0 && x >= c.goal ? 'pass' : '**FAIL**'} |`;
    }),
    '',
    ...REQUEST_HEADER,
    requestRow(p.peerSession),
    requestRow(p.peerApiKey),
    `| Better Auth sign-in/email, 50 connections, 200 distinct accounts | ${s.requestsPerSecond.toFixed(1)} | ${int(s.latencyP50)} | ${int(s.latencyP99)} | ${int(s.ok)} | ${ms(s.eventLoopP99Ms)} | ${cpuMs(s)?.toFixed(1) ?? 'n/a'} | ${cpuCell(s.cpu)} |`,
  ];
}

function cpuSplit(cpu: CpuShare | null, count: number): string {
  if (!cpu || count <= 0) return 'n/a';
  return `${((cpu.benchSeconds * 1000) / count).toFixed(1)} + ${((cpu.postgresSeconds * 1000) / count).toFixed(1)}`;
}

function signInTable(r: Results): string[] {
  const s = r.signIn;
  const v = r.rawVerify;
  return [
    '| measurement | per second | p50 ms | p99 ms | CPU ms per operation (bench + postgres) | CPU % bench / postgres / other / idle | notes |',
    '|---|---:|---:|---:|---:|---:|---|',
    `| raw Argon2id verify (m=19456, t=2, p=1), ${VERIFY_CONCURRENCY} in flight on the libuv pool | ${v.perSecond.toFixed(1)} | | | ${cpuSplit(v.cpu, v.verifies)} | ${cpuCell(v.cpu)} | ${int(v.verifies)} verifies, mean ${ms(v.meanMs)} ms each |`,
    `| \`auth.signIn\` over HTTP, 50 connections, 200 distinct accounts | ${s.requestsPerSecond.toFixed(1)} | ${int(s.latencyP50)} | ${int(s.latencyP99)} | ${cpuSplit(s.cpu, s.ok)} | ${cpuCell(s.cpu)} | ${int(s.ok)} sign-ins, all 200; event-loop p99 ${ms(s.eventLoopP99Ms)} ms, max ${ms(s.eventLoopMaxMs)} ms |`,
  ];
}

export const AUDIT_BEGIN = '<!-- audit-bench:begin -->';
export const AUDIT_END = '<!-- audit-bench:end -->';

function header(r: Results): string[] {
  const e = r.env;
  return [
    '# Benchmarks',
    '',
    'Written by `pnpm bench` (bench/src/run.ts); rerun it to refresh every figure below. Throughput',
    'is measured, never asserted by tests ([design.md](design.md) "Performance budget").',
    '',
    `- Date: ${e.date}`,
    `- Machine: ${e.nproc} cores (\`nproc\`), ${e.cpu}, ${e.memoryGiB} GiB RAM; Node ${e.node}; PostgreSQL ${e.postgres} (embedded)`,
    `- Data: ${int(TENANTS)} tenants x ${int(USERS_PER_TENANT)} users (seeded in ${r.seedSeconds.toFixed(1)} s); Better Auth: ${int(PEER_USERS)} users (seeded in ${r.peer.seedSeconds.toFixed(1)} s); whole run ${Math.round(r.runSeconds)} s after the build`,
    `- Load: autocannon, 50 connections, ${DURATION_SECONDS} s measured per request scenario ((a)-(e) and Better Auth's in four interleaved ${SLICE_SECONDS} s slices after a`,
    '  warm-up pass), 10 s per sign-in (one after 24 warm-up sign-ins), on a worker thread of the same process: the load',
    '  generator shares the 2 cores with the servers and PostgreSQL.',
    ...(QUICK
      ? [
          '  **Quick smoke run (BENCH_QUICK=1): short slices and a smaller directory; these figures only show that every scenario runs, and non-2xx answers (load shedding on a busy machine) are counted instead of stopping the run.**',
        ]
      : []),
    `- Other processes on the machine used up to ${Math.round(maxForeignCpu(r))}% of its CPU during a measurement (column "other" below).`,
    ...(maxForeignCpu(r) > 10
      ? [
          '  **The machine was not quiet: absolute figures are depressed and ratios are noisier than usual.**',
        ]
      : []),
    ...disturbedPair(r),
  ];
}

const fenced = (text: string): string[] => ['```', text, '```'];
const kept = (markers: { begin: string; end: string }, body: string): string[] => [
  markers.begin,
  body,
  markers.end,
];

function plansAndStudies(r: Results): string[] {
  return [
    '## Query plans',
    '',
    '(b) as the runtime role inside `withTenant` (RLS adds the tenant condition):',
    '',
    ...fenced(r.plans.rls),
    '',
    '(c) as the owner with the explicit filter:',
    '',
    ...fenced(r.plans.plain),
    '',
    '## Round trips of a tenant transaction',
    '',
    ...kept(
      ROUND_TRIPS,
      r.roundTrips ??
        'Not measured yet: run `node bench/dist/round-trips.js` after `pnpm bench` (about 3 minutes); it writes its figures here and `pnpm bench` keeps them.',
    ),
    '',
    '## Sign-in with a lower-priority threadpool',
    '',
    ...kept(
      SIGN_IN_PRIORITY,
      r.signInPriority ??
        'Not measured yet: run `node bench/dist/sign-in-priority.js` after `pnpm bench` (about a minute).',
    ),
    '',
    '## Request logging cost',
    '',
    ...kept(
      LOGGING,
      r.logging ??
        'Not measured yet: run `node bench/dist/logging.js` after `pnpm bench` (about 30 seconds).',
    ),
    '',
    '## Many clients on session reads',
    '',
    ...kept(
      MANY_CLIENTS,
      r.manyClients ??
        'Not measured yet: run `node bench/dist/many-clients.js` after `pnpm bench` (about 30 seconds).',
    ),
    '',
    '## Security overview aggregates',
    '',
    ...kept(
      OVERVIEW,
      r.overview ??
        'Not measured yet: run `node bench/dist/overview.js` after `pnpm bench` (about 4 minutes).',
    ),
  ];
}

export function renderMarkdown(r: Results, notes: readonly string[]): string {
  return [
    ...header(r),
    '',
    '## Targets',
    '',
    '| check | value | target | result |',
    '|---|---:|---|---|',
    ...checks(r).map((c) => `| ${c.name} | ${c.value} | ${c.target} | ${verdict(c)} |`),
    '',
    '## Requests',
    '',
    ...readTable(r),
    '',
    '## Sign-in',
    '',
    ...signInTable(r),
    '',
    '## Peer: Better Auth, same run',
    '',
    ...peerTables(r),
    '',
    '## Node 24',
    '',
    ...node24Table(r),
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    ...plansAndStudies(r),
    '',
    '## Audit log',
    '',
    ...kept({ begin: AUDIT_BEGIN, end: AUDIT_END }, r.audit),
    '',
  ].join('\n');
}

export function renderConsole(r: Results): string {
  const line = (m: Measurement & { label: string }): string =>
    `  ${m.label.padEnd(58)} ${int(m.requestsPerSecond).padStart(7)} req/s  p50 ${ms(m.latencyP50).padStart(5)} ms  p99 ${ms(m.latencyP99).padStart(5)} ms`;
  const lines = READ_KEYS.map((key) => line(r.reads[key]));
  lines.push(
    `  raw Argon2id verify x${VERIFY_CONCURRENCY}`.padEnd(61) +
      `${r.rawVerify.perSecond.toFixed(1).padStart(7)} /s`,
  );
  lines.push(
    `  auth.signIn over HTTP, 50 connections`.padEnd(61) +
      `${r.signIn.requestsPerSecond.toFixed(1).padStart(7)} req/s  p50 ${int(r.signIn.latencyP50)} ms  p99 ${int(r.signIn.latencyP99)} ms`,
  );
  lines.push(
    '',
    `  peer: Better Auth ${r.peer.versions.betterAuth}`,
    line(r.peer.peerSession),
    line(r.peer.peerApiKey),
  );
  lines.push(
    `  Better Auth sign-in/email over HTTP, 50 connections`.padEnd(61) +
      `${r.peer.signIn.requestsPerSecond.toFixed(1).padStart(7)} req/s  p50 ${int(r.peer.signIn.latencyP50)} ms  p99 ${int(r.peer.signIn.latencyP99)} ms`,
  );
  lines.push(
    '',
    ...checks(r).map(
      (c) =>
        `  ${c.pass === null ? '    ' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value} (target ${c.target})`,
    ),
  );
  return lines.join('\n');
}
