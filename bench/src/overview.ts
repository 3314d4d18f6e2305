/**
 * `node bench/dist/overview.js` (after `pnpm bench` built it): the security overview's aggregates
 * and the audit page's reads on 1,000 tenants x 1,000 users (overview-data.ts adds factors, keys,
 * privacy requests and 2M audit events, plus one busy tenant with 200k more in 30 days). Each
 * query runs as the runtime role inside a read-only tenant transaction, exactly as the procedures
 * run it: latency over random tenants and on the busy one, the plans (EXPLAIN ANALYZE, checked
 * for sequential scans), and what migration 0031 (two partial audit_logs indexes, the daily-rollup trigger)
 * costs an audit append. Writes the "Security overview aggregates" section of docs/benchmarks.md.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  auditActionsInUse,
  auditPartyNames,
  listAuditEvents,
  recordAuditEvent,
  targetIdsMatching,
} from '@tessera/auth/audit';
import {
  apiKeyUsage,
  auditAnchoring,
  memberFactorCounts,
  privacyDeadlines,
  signInActivity,
} from '@tessera/auth/overview';
import { createDatabase, withTenant, type Database, type TenantTx } from '@tessera/db';
import pg from 'pg';
import { startBenchCluster } from './cluster.js';
import { OVERVIEW, writeSection } from './doc-sections.js';
import { BUSY_EVENTS, BUSY_SLUG, EVENTS_PER_TENANT, seedOverviewData } from './overview-data.js';
import { seedForReads, TENANTS, USERS_PER_TENANT } from './seed.js';

const CALLS = 200;
const BUSY_CALLS = 30;
const APPENDS = 2_000;
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const publicKey = generateKeyPairSync('ed25519').publicKey;

type Read = (tx: TenantTx, now: Date) => Promise<unknown>;
const READS: Record<string, Read> = {
  'overview.members': (tx) => memberFactorCounts(tx),
  'overview.signIns': (tx, now) => signInActivity(tx, now),
  'overview.apiKeys': (tx, now) => apiKeyUsage(tx, now),
  'overview.privacyRequests': (tx, now) => privacyDeadlines(tx, now),
  'overview.auditChain': (tx, now) => auditAnchoring(tx, now, publicKey),
  'audit.actions': (tx) => auditActionsInUse(tx),
  'audit.list target search': async (tx) => {
    const visible = { users: true, apiKeys: true };
    const page = await listAuditEvents(tx, {
      limit: 25,
      targetIds: await targetIdsMatching(tx, 'user42@', visible),
    });
    return auditPartyNames(
      tx,
      page.items.flatMap((e) => [e.actor.id, e.target?.id ?? null]),
      visible,
    );
  },
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

async function latency(db: Database, tenants: string[], read: Read, calls: number) {
  const times: number[] = [];
  for (let i = 0; i < calls; i += 1) {
    const tenant = tenants[i % tenants.length] as string;
    const started = performance.now();
    await withTenant(db, tenant, (tx) => read(tx, new Date()), { readOnly: true });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times.at(-1) ?? NaN };
}

/** Runs `read` with a client that records its statements, then EXPLAINs each as the runtime role. */
async function plans(db: Database, tenant: string, read: Read): Promise<string[]> {
  const seen: { text: string; values: unknown[] }[] = [];
  await withTenant(
    db,
    tenant,
    (tx) => {
      const client = {
        query: (config: { text: string; values?: unknown[] }) => {
          seen.push({ text: config.text, values: config.values ?? [] });
          return tx.client.query(config);
        },
      };
      return read(Object.assign(Object.create(tx) as TenantTx, { client }), new Date());
    },
    { readOnly: true },
  );
  const out: string[] = [];
  for (const statement of seen)
    await withTenant(
      db,
      tenant,
      async (tx) => {
        const { rows } = await tx.client.query<{ 'QUERY PLAN': string }>(
          // eslint-disable-next-line tessera/no-raw-sql-interpolation -- one of the services' own constant statements, recorded above; values stay parameters
          `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF) ${statement.text}`,
          statement.values,
        );
        out.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      },
      { readOnly: true },
    );
  return out;
}

/** Sign-in audit appends per second into one tenant's chain: batches of 100 per transaction. */
async function appendRate(db: Database, tenant: string): Promise<number> {
  const started = performance.now();
  for (let batch = 0; batch < APPENDS / 100; batch += 1)
    await withTenant(db, tenant, async (tx) => {
      for (let i = 0; i < 100; i += 1)
        await recordAuditEvent(tx, {
          actor: { type: 'user', id: 'bench' },
          action: 'auth.sign_in.failed', // counted in the daily rollup: the trigger runs
          target: { type: 'user', id: 'u' },
        });
    });
  return APPENDS / ((performance.now() - started) / 1000);
}

const NEW_INDEXES = ['audit_logs_tenant_key_actor_idx', 'audit_logs_tenant_target_idx'];

async function main(): Promise<void> {
  const cluster = await startBenchCluster();
  const db = createDatabase(cluster.appUrl, { max: 4, applicationName: 'tessera-bench' });
  const owner = new pg.Client({ connectionString: cluster.ownerUrl });
  try {
    log(`seeding ${TENANTS} tenants x ${USERS_PER_TENANT} users, then the overview data ...`);
    await seedForReads(cluster.ownerUrl, TENANTS, 1);
    const seeded = await seedOverviewData(cluster.ownerUrl, TENANTS);
    await owner.connect();
    const { rows } = await owner.query<{ id: string; slug: string }>(
      'SELECT id, slug FROM tenants ORDER BY random()',
    );
    const busy = rows.find((r) => r.slug === BUSY_SLUG)?.id as string;
    const tenants = rows.filter((r) => r.slug !== BUSY_SLUG).map((r) => r.id);
    const { rows: [size] = [] } = await owner.query<{ rows: string }>(
      'SELECT count(*)::text AS rows FROM audit_logs',
    );
    log(`  seeded in ${seeded.toFixed(0)} s; ${size?.rows} audit rows`);
    const table: string[] = [];
    const planText: string[] = [];
    let seqScans = 0;
    for (const [name, read] of Object.entries(READS)) {
      await latency(db, tenants.slice(0, 20), read, 20); // warm-up
      const typical = await latency(db, tenants, read, CALLS);
      const heavy = await latency(db, [busy], read, BUSY_CALLS);
      const fmt = (n: number): string => n.toFixed(1);
      table.push(
        `| ${name} | ${fmt(typical.p50)} | ${fmt(typical.p95)} | ${fmt(heavy.p50)} | ${fmt(heavy.p95)} |`,
      );
      log(table.at(-1) as string);
      for (const plan of [
        ...(await plans(db, tenants[0] as string, read)),
        ...(await plans(db, busy, read)),
      ])
        if (
          /Seq Scan on (audit_logs|users|api_keys|privacy_requests|mfa_totp|webauthn_credentials|mfa_phone_numbers)\b/.test(
            plan,
          )
        )
          seqScans += 1;
      planText.push(
        `${name} (busy tenant):`,
        '',
        '```',
        ...(await plans(db, busy, read)),
        '```',
        '',
      );
    }
    await withTenant(db, tenants[1] as string, (tx) =>
      recordAuditEvent(tx, { actor: { type: 'system', id: null }, action: 'bench.warmed_up' }),
    );
    const withAll = await appendRate(db, tenants[1] as string);
    await owner.query('DROP TRIGGER audit_logs_daily_count ON public.audit_logs');
    const withIndexes = await appendRate(db, tenants[1] as string);
    for (const index of NEW_INDEXES) await owner.query(`DROP INDEX public.${index}`); // eslint-disable-line tessera/no-raw-sql-interpolation -- constant names
    const without = await appendRate(db, tenants[1] as string);
    const body = [
      `Written by \`node bench/dist/overview.js\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (${process.version}): ${TENANTS.toLocaleString('en-US')} tenants x ${USERS_PER_TENANT.toLocaleString('en-US')} users, 40% with TOTP, 20% with passkeys, 5% with SMS, 10 API keys and 20 privacy requests per tenant, ${EVENTS_PER_TENANT.toLocaleString('en-US')} audit events per tenant over 60 days (${size?.rows ?? '?'} rows in all) and one busy tenant with ${BUSY_EVENTS.toLocaleString('en-US')} more in the last 30 days. Each read runs as the runtime role in a read-only tenant transaction (the procedure's own transaction), one at a time: ${CALLS} calls over random tenants, ${BUSY_CALLS} on the busy one. Milliseconds, including the transaction's round trips.`,
      '',
      '| read | p50 ms | p95 ms | busy tenant p50 ms | busy tenant p95 ms |',
      '|---|---:|---:|---:|---:|',
      ...table,
      '',
      `Sequential scans of a tenant table in the plans of every statement above, typical and busy tenant: ${seqScans}. Sign-in audit appends (\`auth.sign_in.failed\`) into one tenant, ${APPENDS.toLocaleString('en-US')} in transactions of 100, one after another: ${Math.round(withAll).toLocaleString('en-US')}/s with migration 0031 (the daily-rollup trigger and two partial indexes), ${Math.round(withIndexes).toLocaleString('en-US')}/s without the trigger, ${Math.round(without).toLocaleString('en-US')}/s without either. Events of other actions skip the trigger (its WHEN clause) and the key-actor index.`,
      '',
      'Plans on the busy tenant (EXPLAIN ANALYZE, BUFFERS; RLS adds the tenant condition):',
      '',
      ...planText,
    ].join('\n');
    await writeSection(OVERVIEW, '## Security overview aggregates', body);
    log('written to docs/benchmarks.md');
  } finally {
    await owner.end().catch(() => undefined);
    await db.close();
    await cluster.stop();
  }
}

await main();
