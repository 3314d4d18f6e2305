// Art. 19 propagation webhooks end to end on real Postgres (docs/privacy.md "Webhooks"):
// a receiver on 127.0.0.1 (development outbound rule) gets signed events when exports and
// erasures start and complete, exactly once per endpoint even when a job reruns; failed attempts
// are retried with backoff and logged; an erasure for an endpoint that asked for acknowledgements
// waits for one, stays visible when delivery fails for good, and resumes when acknowledged.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import {
  acknowledgeWebhookDelivery,
  createPrivacyRequest,
  placeLegalHold,
  releaseLegalHold,
  createWebhookEndpoint,
  updateWebhookEndpoint,
  listDueWebhookDeliveries,
  MAX_WEBHOOK_ATTEMPTS,
  verifyWebhookSignature,
  type PrivacyActor,
} from '@tessera/auth/privacy';
import type { OutboundPolicy } from '@tessera/auth/outbound';
import { listDuePrivacyRequests } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { handleDeletionJob } from './gdpr-deletion.js';
import { handleExportJob } from './gdpr-export.js';
import { handleWebhookDeliveryJob } from './privacy-webhook-delivery.js';
import { startPrivacyWorkers } from './register-workers.js';

const db = useTestDatabase({ poolSize: 20 });
const keyring = parseKeyring(generateKeyringSpec());
const loopbacks: string[] = [];
const outbound: OutboundPolicy = {
  mode: 'development',
  onLoopback: (host) => loopbacks.push(host),
};
const jobDeps = () => ({ database: db.app, keyring, consoleUrl: 'http://localhost:3000' });

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  at: Date;
}
let server: Server;
let baseUrl = '';
const received = new Map<string, Received[]>(); // by path
const answers = new Map<string, number[]>(); // status codes to answer, by path (default 200)

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.set(path, [
        ...(received.get(path) ?? []),
        { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: new Date() },
      ]);
      const status = answers.get(path)?.shift() ?? 200;
      res.writeHead(status, status === 302 ? { location: 'http://10.0.0.1/' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function tenant(): Promise<{
  tenantId: string;
  subjectId: string;
  owner: PrivacyActor;
  path: string;
}> {
  const { id: tenantId } = await db.seedTenant();
  const [subjectId, ownerId] = [randomUUID(), randomUUID()];
  await db.withTenant(tenantId, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role, display_name) VALUES
    ($1, $3, 'erin@example.com', 'member', 'Erin Erased'), ($2, $3, 'owner@example.com', 'owner', NULL)`,
      [subjectId, ownerId, tenantId],
    ),
  );
  return {
    tenantId,
    subjectId,
    owner: { type: 'user', id: ownerId, role: 'owner' },
    path: `/hooks/${tenantId}`,
  };
}

async function endpoint(
  t: { tenantId: string; owner: PrivacyActor; path: string },
  options: { requireAck?: boolean } = {},
): Promise<{ id: string; secret: string }> {
  const { endpoint: created, secret } = await db.withTenant(t.tenantId, (tx) =>
    createWebhookEndpoint(
      tx,
      t.owner,
      { url: `${baseUrl}${t.path}`, ...options },
      { keyring, outbound, now: new Date() },
    ),
  );
  return { id: created.id, secret };
}

const request = (t: { tenantId: string; subjectId: string }, type: 'export' | 'deletion') =>
  db.withTenant(
    t.tenantId,
    async (tx) =>
      (
        await createPrivacyRequest(
          tx,
          { type: 'user', id: t.subjectId },
          { userId: t.subjectId, type, ...(type === 'export' ? { format: 'json' as const } : {}) },
          { keyring, now: new Date() },
        )
      ).request.id,
  );

/**
 * Runs every delivery of the tenant that is due at `now` once, as the queue would. The listing
 * reads the database clock, so deliveries due by a later `now` are first made due (owner connection).
 */
async function deliver(tenantId: string, now = new Date()): Promise<string[]> {
  await db.owner.pool.query(
    `UPDATE privacy_webhook_deliveries SET next_attempt_at = least(next_attempt_at, now())
    WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= $2`,
    [tenantId, now],
  );
  const due = (await listDueWebhookDeliveries(db.app.pool, 100)).filter(
    (ref) => ref.tenantId === tenantId,
  );
  const outcomes: string[] = [];
  for (const ref of due)
    outcomes.push(
      (
        await handleWebhookDeliveryJob(
          { data: { tenantId, deliveryId: ref.id } },
          { database: db.app, keyring, outbound, now: () => now },
        )
      ).status,
    );
  return outcomes;
}

const deliveries = async (tenantId: string) =>
  (
    await db.owner.pool.query<{
      event_type: string;
      status: string;
      attempts: number;
      attempt_log: { statusCode: number | null }[];
      requires_ack: boolean;
      id: string;
    }>(
      'SELECT id, event_type, status, attempts, attempt_log, requires_ack FROM privacy_webhook_deliveries WHERE tenant_id = $1 ORDER BY created_at, event_type',
      [tenantId],
    )
  ).rows;
const statusOf = async (id: string) =>
  (
    await db.owner.pool.query<{ status: string }>(
      'SELECT status FROM privacy_requests WHERE id = $1',
      [id],
    )
  ).rows[0]?.status;

describe('events to a receiver', () => {
  test('an export sends signed started and completed events, once each, with ids only', async () => {
    const t = await tenant();
    const hook = await endpoint(t);
    const id = await request(t, 'export');
    expect(
      await handleExportJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'completed' });
    expect(
      await handleExportJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toMatchObject({ status: 'skipped' });
    expect(await deliver(t.tenantId)).toEqual(['delivered', 'delivered']);
    expect(await deliver(t.tenantId)).toEqual([]);
    const got = received.get(t.path) ?? [];
    expect(got.map((r) => JSON.parse(r.body).type).sort()).toEqual([
      'privacy.export.completed',
      'privacy.export.started',
    ]);
    for (const r of got) {
      const event = JSON.parse(r.body);
      expect(event).toEqual({
        id: r.headers['tessera-event-id'],
        type: r.headers['tessera-event-type'],
        occurredAt: expect.any(String),
        tenantId: t.tenantId,
        requestId: id,
        subjectId: t.subjectId,
      });
      expect(
        verifyWebhookSignature(hook.secret, String(r.headers['tessera-signature']), r.body),
      ).toBe(true);
      // A tampered body or a replay after the tolerance fails.
      expect(
        verifyWebhookSignature(
          hook.secret,
          String(r.headers['tessera-signature']),
          r.body.replace(t.subjectId, randomUUID()),
        ),
      ).toBe(false);
      expect(
        verifyWebhookSignature(
          hook.secret,
          String(r.headers['tessera-signature']),
          r.body,
          300,
          new Date(r.at.getTime() + 301_000),
        ),
      ).toBe(false);
      expect(r.body).not.toContain('erin@example.com');
    }
    expect(loopbacks).toContain('127.0.0.1');
  });

  test('a receiver answering 500 then 200 is retried after the backoff, and the log shows both attempts', async () => {
    const t = await tenant();
    await endpoint(t);
    answers.set(t.path, [500]);
    const id = await request(t, 'deletion');
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'completed' });
    const started = (await deliveries(t.tenantId)).find(
      (d) => d.event_type === 'privacy.erasure.started',
    );
    if (!started) throw new Error('no started delivery');
    const now = new Date();
    const first = await handleWebhookDeliveryJob(
      { data: { tenantId: t.tenantId, deliveryId: started.id } },
      { database: db.app, keyring, outbound, now: () => now },
    );
    expect(first).toEqual({ status: 'pending', reason: 'HTTP 500' });
    // Not due yet: a second job in the backoff window sends nothing.
    expect(
      await handleWebhookDeliveryJob(
        { data: { tenantId: t.tenantId, deliveryId: started.id } },
        { database: db.app, keyring, outbound, now: () => now },
      ),
    ).toEqual({ status: 'skipped', reason: 'not_due' });
    expect(await deliver(t.tenantId, new Date(now.getTime() + 31_000))).toEqual([
      'delivered',
      'delivered',
    ]);
    const log = (await deliveries(t.tenantId)).find((d) => d.id === started.id);
    expect(log).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(log?.attempt_log.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(
      (received.get(t.path) ?? []).filter(
        (r) => JSON.parse(r.body).type === 'privacy.erasure.started',
      ),
    ).toHaveLength(2);
  });

  test('a redirect is not followed and counts as a failed attempt', async () => {
    const t = await tenant();
    await endpoint(t);
    answers.set(t.path, [302, 302]);
    await handleExportJob(
      { data: { tenantId: t.tenantId, requestId: await request(t, 'export') } },
      jobDeps(),
    );
    expect(await deliver(t.tenantId)).toEqual(['pending', 'pending']);
    const { rows } = await db.owner.pool.query<{ last_error: string }>(
      'SELECT last_error FROM privacy_webhook_deliveries WHERE tenant_id = $1',
      [t.tenantId],
    );
    expect(rows.map((r) => r.last_error)).toEqual([
      expect.stringMatching(/redirect/),
      expect.stringMatching(/redirect/),
    ]);
  });
});

test('delivery re-checks the address: a loopback URL stored under the development rule is refused by a production worker', async () => {
  const t = await tenant();
  await endpoint(t); // stored with the development rule (loopback allowed)
  await handleExportJob(
    { data: { tenantId: t.tenantId, requestId: await request(t, 'export') } },
    jobDeps(),
  );
  const due = (await listDueWebhookDeliveries(db.app.pool, 100)).filter(
    (ref) => ref.tenantId === t.tenantId,
  );
  const production: OutboundPolicy = { mode: 'production' };
  for (const ref of due)
    await handleWebhookDeliveryJob(
      { data: { tenantId: t.tenantId, deliveryId: ref.id } },
      { database: db.app, keyring, outbound: production, now: () => new Date() },
    );
  expect(received.get(t.path)).toBeUndefined(); // nothing left the process
  const { rows } = await db.owner.pool.query<{ last_error: string; status: string }>(
    'SELECT last_error, status FROM privacy_webhook_deliveries WHERE tenant_id = $1',
    [t.tenantId],
  );
  expect(rows).toHaveLength(2);
  for (const row of rows)
    expect(row).toMatchObject({
      status: 'pending',
      last_error: expect.stringMatching(/^refused:/),
    });
});

describe('erasure waiting for acknowledgements', () => {
  test('waits until the endpoint acknowledges privacy.erasure.started, then completes', async () => {
    const t = await tenant();
    await endpoint(t, { requireAck: true });
    answers.set(t.path, [503]);
    const id = await request(t, 'deletion');
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'blocked', reason: 'awaiting_acknowledgement' });
    expect(await statusOf(id)).toBe('processing');
    expect(
      (await db.owner.pool.query('SELECT id FROM users WHERE id = $1', [t.subjectId])).rows,
    ).toHaveLength(1);
    // Not re-dispatched as "stale" while it waits, however long that is.
    await db.owner.pool.query(
      `UPDATE privacy_requests SET updated_at = updated_at - interval '1 hour' WHERE id = $1`,
      [id],
    );
    expect(
      (await listDuePrivacyRequests(db.app.pool, 'deletion', 60, 1000)).map((r) => r.id),
    ).not.toContain(id);
    expect(await deliver(t.tenantId)).toEqual(['pending']);
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'blocked', reason: 'awaiting_acknowledgement' });
    expect(await deliver(t.tenantId, new Date(Date.now() + 31_000))).toEqual(['acknowledged']);
    expect(await statusOf(id)).toBe('pending');
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'completed' });
    expect(
      (await db.owner.pool.query('SELECT id FROM users WHERE id = $1', [t.subjectId])).rows,
    ).toEqual([]);
    expect(await deliver(t.tenantId)).toEqual(['delivered']);
    expect((await deliveries(t.tenantId)).map((d) => [d.event_type, d.status])).toEqual([
      ['privacy.erasure.started', 'acknowledged'],
      ['privacy.erasure.completed', 'delivered'],
    ]);
    const { rows } = await db.owner.pool.query(
      'SELECT attempts FROM privacy_requests WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ attempts: 1 }); // waiting did not use up attempts
  });

  test('a legal hold on an announced erasure is announced as held, its release as resumed; then the erasure completes', async () => {
    const t = await tenant();
    await endpoint(t, { requireAck: true });
    answers.set(t.path, [503]);
    const id = await request(t, 'deletion');
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'blocked', reason: 'awaiting_acknowledgement' });
    const { holdId } = await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.owner, { userId: t.subjectId, reason: 'litigation' }, new Date()),
    );
    expect(await statusOf(id)).toBe('blocked');
    // started is refused (503) and will be retried; held goes out at once.
    expect((await deliver(t.tenantId)).sort()).toEqual(['delivered', 'pending']);
    const events = (path: string) =>
      (received.get(path) ?? []).map((r) => (JSON.parse(r.body) as { type: string }).type);
    expect(events(t.path)).toContain('privacy.erasure.held');
    await db.withTenant(t.tenantId, (tx) => releaseLegalHold(tx, t.owner, { holdId }, new Date()));
    expect(await statusOf(id)).toBe('pending');
    expect(await deliver(t.tenantId, new Date(Date.now() + 31_000))).toEqual(
      expect.arrayContaining(['acknowledged', 'delivered']),
    );
    expect(events(t.path)).toContain('privacy.erasure.resumed');
    await db.owner.pool.query("UPDATE privacy_requests SET status = 'processing' WHERE id = $1", [
      id,
    ]); // as the dispatcher's claim would
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'completed' });
    expect((await deliveries(t.tenantId)).map((d) => d.event_type).sort()).toEqual([
      'privacy.erasure.completed',
      'privacy.erasure.held',
      'privacy.erasure.resumed',
      'privacy.erasure.started',
    ]);
  });

  test('an export or an erasure never announced sends no held or resumed event', async () => {
    const t = await tenant();
    await endpoint(t);
    const { holdId } = await db.withTenant(t.tenantId, (tx) =>
      placeLegalHold(tx, t.owner, { userId: t.subjectId, reason: 'audit' }, new Date()),
    );
    const id = await request(t, 'deletion');
    expect(await statusOf(id)).toBe('blocked');
    await db.withTenant(t.tenantId, (tx) => releaseLegalHold(tx, t.owner, { holdId }, new Date()));
    expect(await deliveries(t.tenantId)).toEqual([]);
  });

  test('a delivery that fails for good leaves the erasure waiting and audited; an explicit acknowledgement resumes it', async () => {
    const t = await tenant();
    await endpoint(t, { requireAck: true });
    answers.set(
      t.path,
      Array.from({ length: MAX_WEBHOOK_ATTEMPTS }, () => 500),
    );
    const id = await request(t, 'deletion');
    await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps());
    let clock = Date.now();
    for (let i = 0; i < MAX_WEBHOOK_ATTEMPTS; i += 1) {
      await deliver(t.tenantId, new Date(clock));
      clock += 3_600_000;
    }
    const [started] = await deliveries(t.tenantId);
    expect(started).toMatchObject({
      status: 'failed',
      attempts: MAX_WEBHOOK_ATTEMPTS,
      requires_ack: true,
    });
    expect(await statusOf(id)).toBe('processing');
    const audit = await db.owner.pool.query(
      `SELECT action FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.webhook.delivery_failed'`,
      [t.tenantId],
    );
    expect(audit.rows).toHaveLength(1);
    const officer: PrivacyActor = { type: 'user', id: t.owner.id, role: 'owner' };
    expect(
      await db.withTenant(t.tenantId, (tx) =>
        acknowledgeWebhookDelivery(tx, officer, started?.id ?? '', new Date()),
      ),
    ).toEqual({ status: 'acknowledged', resumed: true });
    expect(await statusOf(id)).toBe('pending');
    expect(
      await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
    ).toEqual({ status: 'completed' });
  });
});

test('disabling the endpoint an erasure waits for cancels its deliveries and lets the erasure run', async () => {
  const t = await tenant();
  const hook = await endpoint(t, { requireAck: true });
  const id = await request(t, 'deletion');
  expect(
    await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
  ).toMatchObject({ reason: 'awaiting_acknowledgement' });
  await db.withTenant(t.tenantId, (tx) =>
    updateWebhookEndpoint(
      tx,
      t.owner,
      { id: hook.id, enabled: false },
      { keyring, outbound, now: new Date() },
    ),
  );
  expect(await statusOf(id)).toBe('pending');
  expect((await deliveries(t.tenantId)).map((d) => d.status)).toEqual(['cancelled']);
  expect(
    await handleDeletionJob({ data: { tenantId: t.tenantId, requestId: id } }, jobDeps()),
  ).toEqual({ status: 'completed' });
  expect(await deliver(t.tenantId)).toEqual([]);
  expect(received.get(t.path)).toBeUndefined();
});

test('through pg-boss: the registered workers deliver the events of an export', async () => {
  const t = await tenant();
  await endpoint(t);
  const quiet = { info: () => undefined, warn: () => undefined };
  const workers = await startPrivacyWorkers({
    ...jobDeps(),
    logger: quiet,
    pollingIntervalSeconds: 0.5,
    dispatchIntervalMs: 300,
    webhooks: { outbound },
  });
  try {
    await request(t, 'export');
    const until = Date.now() + 15_000;
    // The receiver answers before the worker records the outcome: wait for the recorded state.
    const settled = async () =>
      (received.get(t.path) ?? []).length >= 2 &&
      (await deliveries(t.tenantId)).every((d) => d.status === 'delivered');
    while (!(await settled())) {
      if (Date.now() > until) throw new Error('events not delivered in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await deliveries(t.tenantId)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
    expect(received.get(t.path)).toHaveLength(2);
  } finally {
    await workers.stop();
  }
});
