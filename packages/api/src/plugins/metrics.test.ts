import { readFileSync } from 'node:fs';
import {
  API_KEY_REFUSAL_OUTCOMES,
  MFA_FAILURE_REASONS,
  publishOutcome,
  SIGN_IN_OUTCOMES,
} from '@tessera/auth';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import { metricsPlugin, procedurePathsOf, type MetricsOptions, type PoolStats } from './metrics.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const apps: FastifyInstance[] = [];

async function build(options: Partial<MetricsOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  apps.push(app);
  await app.register(metricsPlugin, {
    token: TOKEN,
    procedures: ['auth.signIn', 'users.list', 'health.check'],
    ...options,
  });
  // Stands in for the tRPC adapter's route (`${prefix}/:path`).
  app.all('/trpc/:path', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.ready();
  return app;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(response.statusCode).toBe(200);
  return response.body;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('access', () => {
  test('the endpoint refuses a request without the token, with another token or another scheme', async () => {
    const app = await build();
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789abcd',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      'Bearer ',
    ]) {
      const response = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode, authorization).toBe(401);
      expect(response.body).not.toContain('tessera_');
    }
  });

  test('with the token it serves the Prometheus text format and is never cached', async () => {
    const app = await build();
    const response = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  test('registration without a token or a separate listener is refused', async () => {
    const app = Fastify({ logger: false });
    await expect(app.register(metricsPlugin, {}).ready()).rejects.toThrow(/METRICS_TOKEN/);
  });

  test('with a separate listener /metrics is served there only, not on the API listener', async () => {
    const app = await build({ token: undefined, listen: { port: 0, host: '127.0.0.1' } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    const address = app.tesseraMetrics.listenerAddress();
    expect(address).not.toBeNull();
    const response = await fetch(`http://127.0.0.1:${address?.port ?? 0}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('tessera_http_requests_total');
  });
});

describe('series', () => {
  test('request rate and latency are labelled by route and by each procedure of a batch', async () => {
    const app = await build();
    await app.inject({ method: 'POST', url: '/trpc/auth.signIn,users.list?batch=1', payload: {} });
    await app.inject({ method: 'GET', url: '/healthz' });
    const text = await scrape(app);
    expect(text).toMatch(
      /tessera_http_requests_total\{method="POST",route="\/trpc\/:path",procedure="auth\.signIn",status_code="200"\} 1/,
    );
    expect(text).toMatch(
      /tessera_http_requests_total\{method="POST",route="\/trpc\/:path",procedure="users\.list",status_code="200"\} 1/,
    );
    expect(text).toMatch(
      /tessera_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz",procedure=""\}/,
    );
    expect(text).toMatch(
      /tessera_http_request_duration_seconds_count\{method="POST",route="\/trpc\/:path",procedure="users\.list"\} 1/,
    );
  });

  test('no token, cookie, id or query string reaches a label', async () => {
    const app = await build();
    const secrets = {
      cookie: 'c00kie-value-s3cret',
      bearer: 'sk_live_SECRETSECRETSECRET',
      input: 'in-put-s3cret',
      id: '7d0b5f6e-3f2a-4c1e-9d7b-2a1e5c9f0b11',
    };
    await app.inject({
      method: 'GET',
      url: `/trpc/users.list?input=${encodeURIComponent(JSON.stringify({ token: secrets.input }))}`,
      headers: {
        cookie: `tessera_session=${secrets.cookie}`,
        authorization: `Bearer ${secrets.bearer}`,
      },
    });
    await app.inject({ method: 'GET', url: `/trpc/${secrets.id}` });
    await app.inject({ method: 'GET', url: `/users/${secrets.id}?token=${secrets.input}` });
    const text = await scrape(app);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    expect(text).toMatch(/procedure="unknown",status_code="200"\} 1/);
    expect(text).toMatch(/route="unmatched",procedure="",status_code="404"\} 1/);
  });

  test('without a procedure list, odd names are "unknown" and distinct names are capped', async () => {
    const app = await build({ procedures: undefined });
    await app.inject({ method: 'GET', url: '/trpc/a%20b' });
    for (let i = 0; i < 205; i += 1) await app.inject({ method: 'GET', url: `/trpc/p${i}.x` });
    const text = await scrape(app);
    const procedures = new Set(
      [...text.matchAll(/tessera_http_requests_total\{[^}]*procedure="([^"]*)"/g)].map((m) => m[1]),
    );
    expect(procedures.size).toBeLessThanOrEqual(202); // 200 names, "unknown", "" (the scrape itself)
    expect(procedures.has('unknown')).toBe(true);
  });

  test('the security series count published outcome events, and every outcome exists at 0 before its first event', async () => {
    const app = await build();
    let text = await scrape(app);
    for (const outcome of SIGN_IN_OUTCOMES)
      expect(text).toContain(`tessera_sign_in_total{outcome="${outcome}"} 0`);
    for (const reason of MFA_FAILURE_REASONS)
      expect(text).toContain(`tessera_mfa_failures_total{reason="${reason}"} 0`);
    for (const reason of API_KEY_REFUSAL_OUTCOMES)
      expect(text).toContain(`tessera_api_key_refusals_total{reason="${reason}"} 0`);
    expect(text).toContain('tessera_account_lockouts_total 0');

    publishOutcome({ kind: 'sign_in', outcome: 'signed_in' });
    publishOutcome({ kind: 'sign_in', outcome: 'error' });
    publishOutcome({ kind: 'mfa_failure', reason: 'mfa_code_replayed' });
    publishOutcome({ kind: 'api_key_refused', reason: 'rate_limited' });
    publishOutcome({ kind: 'account_locked' });
    app.tesseraMetrics.jobFinished('gdpr-export', 'completed', 2.5);
    app.tesseraMetrics.shed('database_pool');
    text = await scrape(app);
    expect(text).toContain('tessera_http_shed_total{reason="database_pool"} 1');
    for (const outcome of ['signed_in', 'error'])
      expect(text).toContain(`tessera_sign_in_total{outcome="${outcome}"} 1`);
    expect(text).toContain('tessera_sign_in_total{outcome="mfa_required"} 0');
    expect(text).toContain('tessera_mfa_failures_total{reason="mfa_code_replayed"} 1');
    expect(text).toContain('tessera_api_key_refusals_total{reason="rate_limited"} 1');
    expect(text).toContain('tessera_account_lockouts_total 1');
    expect(text).toContain(
      'tessera_job_duration_seconds_count{queue="gdpr-export",outcome="completed"} 1',
    );
  });

  test('a closed server stops counting outcome events', async () => {
    const app = await build();
    await app.close();
    publishOutcome({ kind: 'account_locked' });
    expect(await app.tesseraMetrics.registry.metrics()).toContain(
      'tessera_account_lockouts_total 0',
    );
  });

  test('pool usage, queue depth, checkpoint age and event-loop delay are read at scrape time', async () => {
    const pool: { -readonly [K in keyof PoolStats]: number } = {
      totalCount: 7,
      idleCount: 2,
      waitingCount: 3,
    };
    const app = await build({
      pools: { app: pool },
      queueDepth: async () => ({ 'gdpr-export': 4 }),
      auditCheckpointAgeSeconds: async () => 42,
    });
    let text = await scrape(app);
    expect(text).toContain('tessera_db_pool_total{pool="app"} 7');
    expect(text).toContain('tessera_db_pool_idle{pool="app"} 2');
    expect(text).toContain('tessera_db_pool_waiting{pool="app"} 3');
    expect(text).toContain('tessera_queue_depth{queue="gdpr-export"} 4');
    expect(text).toContain('tessera_audit_checkpoint_age_seconds 42');
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    pool.waitingCount = 0;
    text = await scrape(app);
    expect(text).toContain('tessera_db_pool_waiting{pool="app"} 0');
  });

  test('a failing callback leaves the scrape working', async () => {
    const app = await build({
      queueDepth: async () => Promise.reject(new Error('down')),
      auditCheckpointAgeSeconds: async () => Promise.reject(new Error('down')),
    });
    const text = await scrape(app);
    expect(text).toContain('tessera_audit_checkpoint_age_seconds Nan');
    expect(text).not.toMatch(/^tessera_queue_depth\{/m);
  });
});

test('procedure paths come from the path only, never the query string', () => {
  expect(procedurePathsOf('/trpc/a.b,c.d?batch=1&input=x', '/trpc')).toEqual(['a.b', 'c.d']);
  expect(procedurePathsOf('/trpc/%E0%A4%A', '/trpc')).toEqual(['unknown']);
  expect(procedurePathsOf('/other/a.b', '/trpc')).toEqual([]);
  expect(
    procedurePathsOf(`/trpc/${Array.from({ length: 21 }, () => 'a.b').join(',')}`, '/trpc'),
  ).toEqual(['unknown']);
});

test('the label values documented for each security series are exactly the ones the code emits', () => {
  // docs/deployment.md "Metrics" is what dashboards and alerts are written against.
  const doc = readFileSync(new URL('../../../../docs/deployment.md', import.meta.url), 'utf8');
  const documented = (series: string): string[] => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${series}\` |`));
    const labels = row?.split(' | ')[2] ?? '';
    const values = labels.slice(labels.indexOf(':') + 1);
    return [...values.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? '').sort();
  };
  expect(documented('tessera_sign_in_total')).toEqual([...SIGN_IN_OUTCOMES].sort());
  expect(documented('tessera_mfa_failures_total')).toEqual([...MFA_FAILURE_REASONS].sort());
  expect(documented('tessera_api_key_refusals_total')).toEqual(
    [...API_KEY_REFUSAL_OUTCOMES].sort(),
  );
});
