/** Renders docs/benchmarks.md and the console summary from one run's figures. */
import { VERIFY_CONCURRENCY, type RawVerify } from './sign-in.js';
import { cpuMsPer, type CpuShare } from './cpu.js';
import { ROUND_TRIPS, SIGN_IN_PRIORITY } from './doc-sections.js';
import type { Measurement } from './load.js';
import type { ReadKey } from './reads.js';

export interface Environment {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  postgres: string;
}

export interface Results {
  env: Environment;
  seedSeconds: number;
  reads: Record<ReadKey, Measurement & { label: string }>;
  plans: { rls: string; plain: string };
  rawVerify: RawVerify;
  signIn: Measurement;
  /** Markdown of the audit bench, or why it is missing. */
  audit: string;
  /** The studies' sections as round-trips.ts and sign-in-priority.ts last wrote them (kept across runs). */
  roundTrips: string | null;
  signInPriority: string | null;
  logLines: number;
  runSeconds: number;
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
const cpuRatio = (a: number | null, b: number | null): string => (a && b ? (b / a).toFixed(2) : 'n/a');

export function checks(r: Results): Check[] {
  const rps = (key: ReadKey): number => r.reads[key].requestsPerSecond;
  const bc = ratio(rps('b'), rps('c'));
  const signIn = ratio(r.signIn.requestsPerSecond, r.rawVerify.perSecond);
  return [
    { name: '(b) / (c): RLS read vs same read without RLS or transaction', value: bc.toFixed(2), target: '>= 0.70', pass: bc >= 0.7 },
    { name: '(b) / (c) by CPU cost per request (less sensitive to other load)', value: cpuRatio(cpuMs(r.reads.b), cpuMs(r.reads.c)), target: '(reference)', pass: null },
    { name: "(b') / (c): the same with drizzle's query builder", value: ratio(rps('bDrizzle'), rps('c')).toFixed(2), target: '(reference)', pass: null },
    { name: '(b) / (a): RLS read vs health.check', value: ratio(rps('b'), rps('a')).toFixed(2), target: '(reference)', pass: null },
    { name: '(c) / (d): plain read through tRPC vs bare Fastify', value: ratio(rps('c'), rps('d')).toFixed(2), target: '(reference)', pass: null },
    { name: '(a) / (d): health.check through tRPC vs bare Fastify', value: ratio(rps('a'), rps('d')).toFixed(2), target: '(reference)', pass: null },
    { name: 'sign-in / raw Argon2id verify', value: signIn.toFixed(2), target: '>= 0.90', pass: signIn >= 0.9 },
    { name: 'sign-in / raw verify by CPU cost per operation', value: cpuRatio(cpuMs(r.signIn), cpuMsPer(r.rawVerify.cpu, r.rawVerify.verifies)), target: '(reference)', pass: null },
    { name: 'event-loop p99 during 50 concurrent sign-ins', value: `${ms(r.signIn.eventLoopP99Ms)} ms`, target: '< 20 ms', pass: r.signIn.eventLoopP99Ms < 20 },
    { name: '(b) vs 3x Better Auth get-session (~580 req/s, DESIGN)', value: `${int(rps('b'))} req/s`, target: '>= 1,740 req/s', pass: rps('b') >= 1740 },
    { name: 'sign-in vs 4x Better Auth sign-in (~15 req/s, DESIGN)', value: `${r.signIn.requestsPerSecond.toFixed(1)} req/s`, target: '>= 60 req/s', pass: r.signIn.requestsPerSecond >= 60 },
  ];
}

const cpuCell = (cpu: CpuShare | null): string =>
  cpu ? `${Math.round(cpu.bench)} / ${Math.round(cpu.postgres)} / ${Math.round(cpu.foreign)} / ${Math.round(cpu.idle)}` : 'n/a';

/** Largest share of the machine that processes outside the bench used during any measurement. */
export function maxForeignCpu(r: Results): number {
  const shares = [...Object.values(r.reads).map((m) => m.cpu), r.rawVerify.cpu, r.signIn.cpu];
  return Math.max(0, ...shares.map((cpu) => cpu?.foreign ?? 0));
}

/** When other processes hit (b) and (c) unequally, the throughput ratio is skewed; say which figure to trust. */
function disturbedPair(r: Results): string[] {
  const b = r.reads.b.cpu?.foreign ?? 0;
  const c = r.reads.c.cpu?.foreign ?? 0;
  if (Math.abs(b - c) <= 10) return [];
  return [`  **(b) and (c) were disturbed unequally (other processes ${Math.round(b)}% vs ${Math.round(c)}% of the CPU): in this run the ratio by CPU cost per request is the more reliable one.**`];
}

const verdict = (c: Check): string => (c.pass === null ? '' : c.pass ? 'pass' : '**FAIL**');

function readTable(r: Results): string[] {
  const rows = (['d', 'a', 'b', 'c', 'bDrizzle'] as const).map((key) => {
    const m = r.reads[key];
    const cost = cpuMs(m);
    return `| ${m.label} | ${int(m.requestsPerSecond)} | ${ms(m.latencyP50)} | ${ms(m.latencyP99)} | ${int(m.ok)} | ${ms(m.eventLoopP99Ms)} | ${cost === null ? 'n/a' : cost.toFixed(2)} | ${cpuCell(m.cpu)} |`;
  });
  return [
    '| scenario | req/s | p50 ms | p99 ms | requests (all 2xx) | server event-loop p99 ms | CPU ms per request | CPU % bench / postgres / other / idle |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
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
    'is measured, never asserted by tests (DESIGN "Performance budget").',
    '',
    `- Date: ${e.date}`,
    `- Machine: ${e.nproc} cores (\`nproc\`), ${e.cpu}, ${e.memoryGiB} GiB RAM; Node ${e.node}; PostgreSQL ${e.postgres} (embedded)`,
    `- Data: 1,000 tenants x 1,000 users (seeded in ${r.seedSeconds.toFixed(1)} s); whole run ${Math.round(r.runSeconds)} s after the build`,
    '- Load: autocannon, 50 connections, 10 s measured per scenario ((a)-(d) in four interleaved 2.5 s slices after a',
    '  warm-up pass; sign-in in one after 24 warm-up sign-ins), on a worker thread of the same process: the load',
    '  generator shares the 2 cores with the server and PostgreSQL.',
    `- Other processes on the machine used up to ${Math.round(maxForeignCpu(r))}% of its CPU during a measurement (column "other" below).`,
    ...(maxForeignCpu(r) > 10 ? ['  **The machine was not quiet: absolute figures are depressed and ratios are noisier than usual.**'] : []),
    ...disturbedPair(r),
  ];
}

const fenced = (text: string): string[] => ['```', text, '```'];
const kept = (markers: { begin: string; end: string }, body: string): string[] => [markers.begin, body, markers.end];

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
    ...kept(ROUND_TRIPS, r.roundTrips ?? 'Not measured yet: run `node bench/dist/round-trips.js` after `pnpm bench` (about 3 minutes); it writes its figures here and `pnpm bench` keeps them.'),
    '',
    '## Sign-in with a lower-priority threadpool',
    '',
    ...kept(SIGN_IN_PRIORITY, r.signInPriority ?? 'Not measured yet: run `node bench/dist/sign-in-priority.js` after `pnpm bench` (about a minute).'),
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
    '## Requests (issue 2)',
    '',
    ...readTable(r),
    '',
    '## Sign-in (issue 4)',
    '',
    ...signInTable(r),
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    ...plansAndStudies(r),
    '',
    '## Audit log (issue 3)',
    '',
    ...kept({ begin: AUDIT_BEGIN, end: AUDIT_END }, r.audit),
    '',
  ].join('\n');
}

export function renderConsole(r: Results): string {
  const lines = (['d', 'a', 'b', 'c', 'bDrizzle'] as const).map((key) => {
    const m = r.reads[key];
    return `  ${m.label.padEnd(58)} ${int(m.requestsPerSecond).padStart(7)} req/s  p50 ${ms(m.latencyP50).padStart(5)} ms  p99 ${ms(m.latencyP99).padStart(5)} ms`;
  });
  lines.push(`  raw Argon2id verify x${VERIFY_CONCURRENCY}`.padEnd(61) + `${r.rawVerify.perSecond.toFixed(1).padStart(7)} /s`);
  lines.push(`  auth.signIn over HTTP, 50 connections`.padEnd(61) + `${r.signIn.requestsPerSecond.toFixed(1).padStart(7)} req/s  p50 ${int(r.signIn.latencyP50)} ms  p99 ${int(r.signIn.latencyP99)} ms`);
  lines.push('', ...checks(r).map((c) => `  ${c.pass === null ? '    ' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.value} (target ${c.target})`));
  return lines.join('\n');
}
