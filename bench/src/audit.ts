/**
 * Audit-log throughput (docs/design.md "Performance budget"). Targets on the 2-core reference
 * machine: at least 2,000 events/s into one tenant's chain, more across tenants, and at least
 * 50,000 events/s verified. Each event is written in its own tenant transaction, as a feature
 * writes it next to the change it records. Pass a database connected as the runtime role.
 */
import { randomUUID } from 'node:crypto';
import { recordAuditEvent, verifyAuditChain, type AuditEventInput } from '@tessera/api';
import { tenants, withTenant, type Database } from '@tessera/db';
import type { AuditBenchContext } from './audit-hook.js';

export interface AuditBenchOptions {
  /** Events per write measurement (default 4,000). */
  events?: number;
  /** Concurrent writers (default 8); also the tenant count across tenants. */
  writers?: number;
  /** Length of the chain that is verified (default 20,000). */
  verifyEvents?: number;
}

export interface AuditBenchFigures {
  oneTenantEventsPerSecond: number;
  acrossTenantsEventsPerSecond: number;
  verifiedEventsPerSecond: number;
  events: number;
  writers: number;
  verifyEvents: number;
}

/** A typical event: actor, target, ip and user agent (digested), a before/after with an e-mail. */
const sample: AuditEventInput = {
  actor: { type: 'user', id: randomUUID() },
  action: 'user.role.changed',
  target: { type: 'user', id: randomUUID() },
  ip: '203.0.113.42',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
  before: { role: 'member', email: 'bench.user@example.com' },
  after: { role: 'admin', email: 'bench.user@example.com' },
};

async function createTenant(database: Database): Promise<string> {
  const id = randomUUID();
  await withTenant(database, id, (tx) =>
    tx.insert(tenants).values({ id, slug: `bench-${id.slice(0, 8)}`, name: 'Audit bench' }),
  );
  return id;
}

/** `writers` loops, writer i writing into tenantFor(i), one event per transaction; events/s. */
async function writeConcurrently(
  database: Database,
  total: number,
  writers: number,
  tenantFor: (writer: number) => string,
): Promise<number> {
  const perWriter = Math.ceil(total / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const tenantId = tenantFor(writer);
      for (let i = 0; i < perWriter; i += 1)
        await withTenant(database, tenantId, (tx) => recordAuditEvent(tx, sample));
    }),
  );
  return Math.round((perWriter * writers) / ((performance.now() - started) / 1000));
}

async function verifiedPerSecond(database: Database, length: number): Promise<number> {
  const tenantId = await createTenant(database);
  for (let written = 0; written < length; written += 500) {
    // Setup only: 500 events per transaction to build the chain quickly.
    await withTenant(database, tenantId, async (tx) => {
      for (let i = 0; i < Math.min(500, length - written); i += 1)
        await recordAuditEvent(tx, sample);
    });
  }
  const started = performance.now();
  const result = await withTenant(database, tenantId, (tx) => verifyAuditChain(tx), {
    readOnly: true,
  });
  if (!result.valid || result.checked !== length)
    throw new Error(`bench chain did not verify: ${JSON.stringify(result)}`);
  return Math.round(length / ((performance.now() - started) / 1000));
}

export async function benchAudit(
  database: Database,
  options: AuditBenchOptions = {},
): Promise<AuditBenchFigures> {
  const events = options.events ?? 4_000;
  const writers = options.writers ?? 8;
  const verifyEvents = options.verifyEvents ?? 20_000;
  const warmTenant = await createTenant(database);
  await writeConcurrently(database, writers * 25, writers, () => warmTenant); // warm pool, plans, JIT
  const oneTenant = await createTenant(database);
  const oneTenantEventsPerSecond = await writeConcurrently(
    database,
    events,
    writers,
    () => oneTenant,
  );
  const many = await Promise.all(Array.from({ length: writers }, () => createTenant(database)));
  const acrossTenantsEventsPerSecond = await writeConcurrently(
    database,
    events,
    writers,
    (writer) => many[writer] ?? oneTenant,
  );
  const verifiedEventsPerSecond = await verifiedPerSecond(database, verifyEvents);
  return {
    oneTenantEventsPerSecond,
    acrossTenantsEventsPerSecond,
    verifiedEventsPerSecond,
    events,
    writers,
    verifyEvents,
  };
}

/** Entry point for `pnpm bench` (audit-hook.ts): the figures as a Markdown table with the targets. */
export async function runAuditBench(context: AuditBenchContext): Promise<string> {
  context.log('audit: writing into one tenant, across tenants, then verifying');
  const f = await benchAudit(context.database);
  const row = (name: string, value: number, target: string): string =>
    `| ${name} | ${value.toLocaleString('en-US')} | ${target} |`;
  return [
    `${f.writers} concurrent writers, one event per transaction (${f.events.toLocaleString('en-US')} events per run); verification streams a ${f.verifyEvents.toLocaleString('en-US')}-event chain.`,
    '',
    '| figure | events/s | target |',
    '|---|---:|---:|',
    row('audit writes into one tenant', f.oneTenantEventsPerSecond, '>= 2,000'),
    row(
      `audit writes across ${f.writers} tenants`,
      f.acrossTenantsEventsPerSecond,
      'more than one tenant',
    ),
    row('audit chain verification', f.verifiedEventsPerSecond, '>= 50,000'),
  ].join('\n');
}
