// Every series is moved by the real event, through the built server on the test database, and read
// from /metrics: sign-in outcomes (signed in, second factor required, wrong password, locked,
// rate-limited), a new lockout, wrong and replayed second-factor codes (sign-in challenge and
// enrolment), refused API keys (unknown, revoked, IP allowlist, scope, a publishable key revoking
// itself, rate limit, quota; each counted once) and a GDPR job run with its queue's depth. The
// security series count the outcome events the auth flows publish (@tessera/auth outcomes.ts).
import { randomUUID } from 'node:crypto';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '@tessera/api-contract/testing';
import { totpCodeAt } from '@tessera/auth/mfa';
import { recordAuditEvent } from '@tessera/auth/audit';
import { createPrivacyRequest } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';
import { startPrivacyWorkers } from '../workers/register-workers.js';

const db = useTestDatabase({ poolSize: 15 });
const services = testServices();
const TOKEN = 'metrics-feed-test-token-0123456789';
const json = { 'content-type': 'application/json' };
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services, metrics: { token: TOKEN } },
  );
});
afterAll(async () => app.close());

/** The value of one series in the scrape (0 when absent); labels must match exactly. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (
    await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  ).body;
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (have === wanted) return Number(match[3]);
  }
  return 0;
}

/** A tRPC call through the server from `ip` (each test its own address: per-IP limits stay apart). */
async function call(
  ip: string,
  path: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: payload === undefined ? 'GET' : 'POST',
    url: `/trpc/${path}`,
    remoteAddress: ip,
    headers: payload === undefined ? headers : { ...json, ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

async function samples(
  name: string,
  label: string,
  values: readonly string[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const value of values) out[value] = await sample(name, { [label]: value });
  return out;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('on the API listener the metrics token is not taken for an API key, and a wrong one gets the metrics 401', async () => {
  const refusals = await sample('tessera_api_key_refusals_total', { reason: 'invalid' });
  const wrong = await app.inject({
    url: '/metrics',
    headers: { authorization: 'Bearer not-the-metrics-token-at-all' },
  });
  expect(wrong.statusCode).toBe(401);
  expect(wrong.headers['www-authenticate']).toBe('Bearer realm="metrics"');
  expect(await sample('tessera_api_key_refusals_total', { reason: 'invalid' })).toBe(refusals);
});

test('a locked-out sign-in moves the lockout counter once and the sign-in outcomes per attempt', async () => {
  const owner = await signUpOwner(db.app, { services });
  const before = {
    locks: await sample('tessera_account_lockouts_total'),
    wrong: await sample('tessera_sign_in_total', { outcome: 'invalid_credentials' }),
    locked: await sample('tessera_sign_in_total', { outcome: 'account_locked' }),
  };
  const statuses: number[] = [];
  for (let i = 0; i < 6; i += 1) {
    const res = await app.inject({
      method: 'POST',
      url: '/trpc/auth.signIn',
      headers: json,
      payload: {
        tenantSlug: owner.tenant.slug,
        email: owner.user.email,
        password: 'not-the-password-at-all',
      },
    });
    statuses.push(res.statusCode);
  }
  expect(statuses.slice(-2)).toEqual([429, 429]); // locked at the fifth failure, still locked at the sixth
  expect(await sample('tessera_account_lockouts_total')).toBe(before.locks + 1);
  expect(await sample('tessera_sign_in_total', { outcome: 'invalid_credentials' })).toBe(
    before.wrong + 4,
  );
  expect(await sample('tessera_sign_in_total', { outcome: 'account_locked' })).toBe(
    before.locked + 2,
  );
});

test('a wrong second-factor code moves the MFA failure counter; the password step counts as mfa_required', async () => {
  const now = new Date();
  const owner = await signUpOwner(db.app, { services });
  const { secret } = await (
    await callerFor(db.app, owner.token, { services })
  ).mfa.beginEnrollment();
  const ctx = createTestContext(db.app, {
    services,
    principal: await principalFromToken(db.app, owner.token),
  });
  await createCaller(ctx).mfa.confirmEnrollment({ code: totpCodeAt(secret, now) });
  const failures = await sample('tessera_mfa_failures_total', { reason: 'mfa_code_invalid' });
  const mfaRequired = await sample('tessera_sign_in_total', { outcome: 'mfa_required' });

  const step = await app.inject({
    method: 'POST',
    url: '/trpc/auth.signIn',
    headers: json,
    payload: { tenantSlug: owner.tenant.slug, email: owner.user.email, password: STRONG_PASSWORD },
  });
  const challengeToken = step.json().result.data.challengeToken as string;
  const valid = new Set(
    [-30, 0, 30].map((s) => totpCodeAt(secret, new Date(Date.now() + s * 1000))),
  );
  let wrong = 123_456;
  while (valid.has(String(wrong))) wrong += 1;
  const res = await app.inject({
    method: 'POST',
    url: '/trpc/auth.verifyMfa',
    headers: json,
    payload: { challengeToken, code: String(wrong) },
  });
  expect(res.json()).toMatchObject({ error: { data: { reason: 'mfa_code_invalid' } } });
  expect(await sample('tessera_mfa_failures_total', { reason: 'mfa_code_invalid' })).toBe(
    failures + 1,
  );
  expect(await sample('tessera_sign_in_total', { outcome: 'mfa_required' })).toBe(mfaRequired + 1);
});

test('refused API keys are counted by wire reason, once each, whether refused before tRPC or by a scope check', async () => {
  const owner = await signUpOwner(db.app, { services });
  const caller = await callerFor(db.app, owner.token, { services });
  const { key } = await caller.apiKeys.create({
    name: 'reader',
    type: 'secret',
    environment: 'test',
    scopes: ['users:read'],
  });
  const invalid = await sample('tessera_api_key_refusals_total', { reason: 'invalid' });
  const forbidden = await sample('tessera_api_key_refusals_total', { reason: 'forbidden' });

  const unknown = await app.inject({
    url: '/trpc/users.list',
    headers: { authorization: 'Bearer sk_test_not-a-real-key' },
  });
  expect(unknown.statusCode).toBe(401);
  expect(await sample('tessera_api_key_refusals_total', { reason: 'invalid' })).toBe(invalid + 1);

  const outOfScope = await app.inject({
    url: '/trpc/apiKeys.list',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(outOfScope.json()).toMatchObject({ error: { data: { reason: 'api_key_forbidden' } } });
  expect(await sample('tessera_api_key_refusals_total', { reason: 'forbidden' })).toBe(
    forbidden + 1,
  );
  expect(await sample('tessera_api_key_refusals_total', { reason: 'invalid' })).toBe(invalid + 1);
});

test('a GDPR job run lands in the duration histogram of its queue, and the queue depth is exported', async () => {
  const metrics = app.tesseraMetrics;
  const workers = await startPrivacyWorkers({
    database: db.app,
    keyring: services.accounts.keyring,
    consoleUrl: 'http://localhost:3000',
    logger: { info: () => undefined, warn: () => undefined },
    pollingIntervalSeconds: 0.5,
    dispatchIntervalMs: 500,
    onJobFinished: (queue, outcome, seconds) => metrics.jobFinished(queue, outcome, seconds),
  });
  metrics.watchQueues(() => workers.queueDepth());
  try {
    const runs = await sample('tessera_job_duration_seconds_count', {
      queue: 'gdpr-export',
      outcome: 'completed',
    });
    const { id: tenantId } = await db.seedTenant();
    const userId = randomUUID();
    await db.withTenant(tenantId, async (tx) => {
      await tx.client.query(
        `INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, 'jo@example.com')`,
        [userId, tenantId],
      );
      await createPrivacyRequest(
        tx,
        { type: 'user', id: userId },
        { userId, type: 'export', format: 'json' },
        { keyring: services.accounts.keyring, now: new Date() },
      );
    });
    await eventually(
      async () =>
        (await sample('tessera_job_duration_seconds_count', {
          queue: 'gdpr-export',
          outcome: 'completed',
        })) ===
        runs + 1,
    );
    const text = (
      await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    ).body;
    expect(text).toMatch(/^tessera_queue_depth\{queue="gdpr-export"\} \d+$/m);
    expect(text).toMatch(/^tessera_queue_depth\{queue="privacy-webhook-delivery"\} \d+$/m);
    expect(text).toMatch(
      /^tessera_job_duration_seconds_sum\{queue="gdpr-export",outcome="completed"\} [0-9.e-]+$/m,
    );
  } finally {
    await workers.stop();
  }
});

test('the audit checkpoint age is read from the database at scrape time', async () => {
  const { id: tenantId } = await db.seedTenant();
  await db.withTenant(tenantId, (tx) =>
    recordAuditEvent(tx, {
      actor: { type: 'system', id: 'test' },
      action: 'user.role.changed',
      occurredAt: new Date(Date.now() - 3_600_000),
    }),
  );
  // That event has waited an hour for a checkpoint; the gauge reports at least that.
  expect(await sample('tessera_audit_checkpoint_age_seconds')).toBeGreaterThanOrEqual(3_600);
});

test('each sign-in outcome is counted once per attempt: signed in, wrong password, locked, then rate-limited', async () => {
  const ip = '198.51.100.11';
  const owner = await signUpOwner(db.app, { services });
  const outcomes = ['signed_in', 'invalid_credentials', 'account_locked', 'rate_limited', 'error'];
  const before = await samples('tessera_sign_in_total', 'outcome', outcomes);
  const locks = await sample('tessera_account_lockouts_total');
  const signIn = (password: string) =>
    call(ip, 'auth.signIn', { tenantSlug: owner.tenant.slug, email: owner.user.email, password });

  expect((await signIn(STRONG_PASSWORD)).statusCode).toBe(200);
  const reasons: unknown[] = [];
  // 10 attempts a minute per account: after the success, 4 wrong, the 5th wrong locks, 4 meet the
  // lock, and the 11th attempt meets the limit.
  for (let i = 0; i < 10; i += 1)
    reasons.push((await signIn('wrong-password-here')).json().error.data.reason);
  expect(reasons.at(-1)).toBe('rate_limited');

  expect(await samples('tessera_sign_in_total', 'outcome', outcomes)).toEqual({
    signed_in: before.signed_in! + 1,
    invalid_credentials: before.invalid_credentials! + 4,
    account_locked: before.account_locked! + 5,
    rate_limited: before.rate_limited! + 1,
    error: before.error,
  });
  expect(await sample('tessera_account_lockouts_total')).toBe(locks + 1);
});

test('a replayed second-factor code counts as replayed, and a wrong code while enrolling as invalid', async () => {
  const ip = '198.51.100.12';
  const owner = await signUpOwner(db.app, { services });
  const principal = await principalFromToken(db.app, owner.token);
  const enrolling = createCaller(createTestContext(db.app, { services, principal, ip }));
  const { secret } = await enrolling.mfa.beginEnrollment();
  const failures = await samples('tessera_mfa_failures_total', 'reason', [
    'mfa_code_invalid',
    'mfa_code_replayed',
  ]);
  const valid = new Set(
    [-30, 0, 30].map((s) => totpCodeAt(secret, new Date(Date.now() + s * 1000))),
  );
  let wrong = 234_567;
  while (valid.has(String(wrong))) wrong += 1;
  await expect(enrolling.mfa.confirmEnrollment({ code: String(wrong) })).rejects.toThrow();
  // Enrolled with the previous step's code, so the current one is fresh once, then a replay.
  await enrolling.mfa.confirmEnrollment({
    code: totpCodeAt(secret, new Date(Date.now() - 30_000)),
  });
  const code = totpCodeAt(secret, new Date());
  const verify = async () => {
    const step = await call(ip, 'auth.signIn', {
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
      password: STRONG_PASSWORD,
    });
    const { challengeToken } = step.json().result.data as { challengeToken: string };
    return call(ip, 'auth.verifyMfa', { challengeToken, code });
  };
  expect((await verify()).statusCode).toBe(200);
  expect((await verify()).json()).toMatchObject({
    error: { data: { reason: 'mfa_code_replayed' } },
  });

  expect(await sample('tessera_mfa_failures_total', { reason: 'mfa_code_invalid' })).toBe(
    failures.mfa_code_invalid! + 1,
  );
  expect(await sample('tessera_mfa_failures_total', { reason: 'mfa_code_replayed' })).toBe(
    failures.mfa_code_replayed! + 1,
  );
});

test('keys refused by the verifier and by a procedure are counted by reason, once each', async () => {
  const ip = '198.51.100.13';
  const owner = await signUpOwner(db.app, { services });
  const caller = await callerFor(db.app, owner.token, { services });
  const create = (spec: Record<string, unknown>) =>
    caller.apiKeys.create({
      name: 'metrics',
      type: 'secret',
      environment: 'test',
      scopes: ['users:read'],
      ...spec,
    });
  const reasons = ['invalid', 'forbidden', 'rate_limited', 'quota_exhausted'];
  const before = await samples('tessera_api_key_refusals_total', 'reason', reasons);
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  const revoked = await create({});
  await caller.apiKeys.revoke({ id: revoked.apiKey.id });
  expect((await call(ip, 'users.list', undefined, bearer(revoked.key))).statusCode).toBe(401);

  const elsewhere = await create({ allowedCidrs: ['10.0.0.0/8'] });
  expect((await call(ip, 'users.list', undefined, bearer(elsewhere.key))).statusCode).toBe(403);

  const publishable = await create({ type: 'publishable', scopes: [] });
  const self = await call(ip, 'apiKeys.revokeSelf', {}, bearer(publishable.key));
  expect(self.json()).toMatchObject({ error: { data: { reason: 'api_key_forbidden' } } });

  const limited = await create({ rateLimit: { max: 1, windowSeconds: 60 } });
  expect((await call(ip, 'users.list', undefined, bearer(limited.key))).statusCode).toBe(200);
  expect((await call(ip, 'users.list', undefined, bearer(limited.key))).json()).toMatchObject({
    error: { data: { reason: 'api_key_rate_limited' } },
  });

  const metered = await create({ quota: { remaining: 1 } });
  expect((await call(ip, 'users.list', undefined, bearer(metered.key))).statusCode).toBe(200);
  expect((await call(ip, 'users.list', undefined, bearer(metered.key))).json()).toMatchObject({
    error: { data: { reason: 'api_key_quota_exhausted' } },
  });

  expect(await samples('tessera_api_key_refusals_total', 'reason', reasons)).toEqual({
    invalid: before.invalid! + 1,
    forbidden: before.forbidden! + 2,
    rate_limited: before.rate_limited! + 1,
    quota_exhausted: before.quota_exhausted! + 1,
  });
});
