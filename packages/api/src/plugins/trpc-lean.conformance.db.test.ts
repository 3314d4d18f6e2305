// The lean tRPC path (trpc-lean.ts) must be invisible to clients: one matrix of calls, made through
// `@trpc/client` (httpLink, httpBatchLink) and raw HTTP, runs against a server with the lean path and
// one with the stock adapter only, and both must observe the same answers: data, error codes with
// data.reason/field/fieldErrors, zod errors, status codes and headers (set-cookie, retry-after,
// cache-control, content-type, vary, allow, x-request-id), with request ids, dates, ids and secrets
// normalised. Only the framing differs (content-length instead of chunked), which the positive
// control below uses to prove the lean path really answered. docs/decisions/0008-lean-trpc-route.md.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppRouter } from '@tessera/api-contract';
import { STRONG_PASSWORD, testServices } from '@tessera/api-contract/testing';
import { createDatabase } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from '@trpc/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();

interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  framing: 'length' | 'chunked' | 'none';
}
interface Step {
  outcome: unknown;
  exchanges: Exchange[];
}

/** One server under test: its base URL, a session cookie jar, and the exchanges of the current step. */
interface Target {
  app: FastifyInstance;
  base: string;
  cookie: string | null;
  exchanges: Exchange[];
}

/** The part of RequestInit that tRPC's links and `raw` pass. */
interface FetchInit {
  method?: string | undefined;
  headers?: HeadersInit | undefined;
  body?: BodyInit | null | undefined;
  signal?: AbortSignal | null | undefined;
}

const SKIPPED_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

async function targetOf(lean: boolean): Promise<Target> {
  const app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services: testServices(), leanTrpc: lean },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    cookie: null,
    exchanges: [],
  };
}

/** fetch that sends the target's session cookie (unless `bearer` is given), keeps what it sets, and records the exchange. */
function recordingFetch(target: Target, bearer?: string) {
  return async (input: RequestInfo | URL, init?: FetchInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    if (bearer !== undefined) headers.set('authorization', `Bearer ${bearer}`);
    else if (target.cookie !== null && !headers.has('cookie')) headers.set('cookie', target.cookie);
    const method = init?.method ?? 'GET';
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const res = await fetch(url, {
      method,
      headers,
      body: init?.body ?? null,
      signal: init?.signal ?? null,
    });
    const text = await res.clone().text();
    const recorded: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!SKIPPED_HEADERS.has(name)) recorded[name] = value;
    });
    if (res.headers.has('set-cookie'))
      recorded['set-cookie'] = res.headers.getSetCookie().join(' | ');
    const framing = res.headers.has('content-length')
      ? 'length'
      : res.headers.get('transfer-encoding') === 'chunked'
        ? 'chunked'
        : 'none';
    target.exchanges.push({
      method,
      path: url.pathname + url.search,
      status: res.status,
      headers: recorded,
      body: parsedOrText(text),
      framing,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      if (!pair.startsWith('tessera_session=')) continue;
      target.cookie =
        pair === 'tessera_session=' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie)
          ? null
          : pair;
    }
    return res;
  };
}

/**
 * A request fetch cannot send (its own Host header, a fragment or raw bytes in the target),
 * written on a socket by node:http and recorded like the others.
 */
function rawHttp(target: Target, path: string, headers: Record<string, string>): Promise<null> {
  const { hostname, port } = new URL(target.base);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: hostname, port, path, method: 'GET', headers, setHost: !('host' in headers) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const recorded: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers))
            if (!SKIPPED_HEADERS.has(name) && value !== undefined)
              recorded[name] = Array.isArray(value) ? value.join(' | ') : value;
          target.exchanges.push({
            method: 'GET',
            path: path.replace(target.base, '<base>'),
            status: res.statusCode ?? 0,
            headers: recorded,
            body: parsedOrText(text),
            framing: res.headers['content-length'] ? 'length' : 'none',
          });
          resolve(null);
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const clientOf = (target: Target, bearer?: string) =>
  createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${target.base}/trpc`, fetch: recordingFetch(target, bearer) })],
  });
const batchClientOf = (target: Target) =>
  createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${target.base}/trpc`, fetch: recordingFetch(target) })],
  });

async function raw(
  target: Target,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; bearer?: string } = {},
): Promise<null> {
  await recordingFetch(target, init.bearer)(`${target.base}${path}`, {
    method,
    ...(init.headers ? { headers: init.headers } : {}),
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return null;
}

function outcomeOf(error: unknown): unknown {
  if (error instanceof TRPCClientError)
    return { error: error.message, shape: error.shape as unknown, data: error.data as unknown };
  return { thrown: String(error) };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const WRONG_PASSWORD = 'wrong-horse-battery-staple-000';

/** The matrix. Each step starts with an empty exchange list; `tag` makes this server's tenant its own. */
async function runMatrix(target: Target, tag: string): Promise<Record<string, Step>> {
  const steps: Record<string, Step> = {};
  const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
    target.exchanges = [];
    let outcome: unknown;
    try {
      outcome = { ok: await run() };
    } catch (error) {
      outcome = outcomeOf(error);
    }
    steps[name] = { outcome, exchanges: target.exchanges };
  };
  const client = clientOf(target);
  const batch = batchClientOf(target);
  const slug = `conf-${tag}`;
  const email = `owner-${tag}@example.com`;

  await step('query, no input', () => client.health.check.query());
  await step('query without input, malformed input', () =>
    raw(target, 'GET', '/trpc/health.check?input=%7Bnot-json'),
  );
  await step('query from a trusted origin (CORS)', () =>
    raw(target, 'GET', '/trpc/health.check', { headers: { origin: 'http://localhost:3000' } }),
  );
  await step('query, unexpected query parameter', () =>
    raw(target, 'GET', '/trpc/health.check?foo=1'),
  );
  await step('query, HEAD', () => raw(target, 'HEAD', '/trpc/health.check'));
  await step('query, encoded prefix', () => raw(target, 'GET', '/%74rpc/health.check'));
  await step('query, Host that makes no URL', () =>
    rawHttp(target, '/trpc/health.check', { host: '999.1.1.1' }),
  );
  await step('query, Host with a port out of range', () =>
    rawHttp(target, '/trpc/health.check', { host: 'localhost:99999' }),
  );
  await step('query, fragment in the target', () =>
    rawHttp(target, '/trpc/health.check#frag?x=1', {}),
  );
  await step('query, absolute-form target', () =>
    rawHttp(target, `${target.base}/trpc/health.check?foo=1`, {}),
  );
  await step('mutation, zod input errors', () =>
    client.auth.signUp.mutate({ tenantName: '', tenantSlug: 'A', email: 'x', password: 'short' }),
  );
  await step('mutation, sign-up sets the session cookie', () =>
    client.auth.signUp.mutate({
      tenantName: `Conformance ${tag}`,
      tenantSlug: slug,
      email,
      password: STRONG_PASSWORD,
    }),
  );
  await step('mutation, duplicate slug', () =>
    client.auth.signUp.mutate({
      tenantName: 'Again',
      tenantSlug: slug,
      email,
      password: STRONG_PASSWORD,
    }),
  );
  await step('query with the session cookie', () => client.auth.me.query());
  await step('query, encoded dot in the procedure', () => raw(target, 'GET', '/trpc/auth%2Eme'));
  await step('query, GET with input', () => client.users.list.query({ limit: 5 }));
  await step('query, malformed JSON input', () =>
    raw(target, 'GET', '/trpc/users.list?input=%7Bnot-json'),
  );
  await step('query, input with a plus for a space', () =>
    raw(target, 'GET', '/trpc/users.list?input=%7B%22limit%22%3A+2%7D'),
  );
  await step('query, a second question mark before the input', () =>
    raw(target, 'GET', '/trpc/users.list??input=%7B%22bogus%22%3A1%7D'),
  );
  await step('query, input given twice', () =>
    raw(target, 'GET', '/trpc/users.list?input=%7B%22limit%22%3A1%7D&input=%7B%7D'),
  );
  await step('query, input and an empty parameter', () =>
    raw(target, 'GET', '/trpc/users.list?input=%7B%7D&'),
  );
  await step('query, zod error in GET input', () => client.users.list.query({ limit: 1000 }));
  await step('query sent as POST', () =>
    raw(target, 'POST', '/trpc/auth.me', { headers: JSON_HEADERS, body: '{}' }),
  );
  await step('mutation sent as GET', () => raw(target, 'GET', '/trpc/auth.signOut'));
  await step('unknown procedure', () =>
    (
      client as unknown as { nope: { nothing: { query(): Promise<unknown> } } }
    ).nope.nothing.query(),
  );
  await step('unknown procedure, POST', () =>
    raw(target, 'POST', '/trpc/nope.nothing', { headers: JSON_HEADERS, body: '{}' }),
  );
  await step('mutation, malformed JSON body', () =>
    raw(target, 'POST', '/trpc/auth.signIn', { headers: JSON_HEADERS, body: '{"tenantSlug":' }),
  );
  await step('mutation, empty JSON body', () =>
    raw(target, 'POST', '/trpc/auth.signIn', { headers: JSON_HEADERS }),
  );
  await step('mutation, oversized body', () =>
    raw(target, 'POST', '/trpc/auth.signIn', {
      headers: JSON_HEADERS,
      body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
    }),
  );
  await step('mutation, cross-site', () =>
    raw(target, 'POST', '/trpc/auth.signOut', {
      headers: { ...JSON_HEADERS, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: '',
    }),
  );
  await step('mutation, domain error with a field', () =>
    client.apiKeys.create.mutate({
      name: 'bad',
      type: 'secret',
      environment: 'test',
      scopes: ['users:read'],
      allowedCidrs: ['not-a-cidr'],
    }),
  );
  let key = '';
  await step('mutation, API key minted', async () => {
    const minted = await client.apiKeys.create.mutate({
      name: 'conformance',
      type: 'secret',
      environment: 'test',
      scopes: ['users:read'],
    });
    key = minted.key;
    return minted;
  });
  await step('query with the API key', () => clientOf(target, key).users.list.query());
  await step('query with the API key, scope refused', () =>
    clientOf(target, key).apiKeys.list.query(),
  );
  await step('query with an unknown API key', () =>
    clientOf(target, `sk_test_${'A'.repeat(49)}`).users.list.query(),
  );
  await step('batch of two', () =>
    Promise.all([batch.health.check.query(), batch.auth.me.query()]),
  );
  await step('batch over the cap', async () =>
    Promise.allSettled(Array.from({ length: 11 }, () => batch.health.check.query())).then((all) =>
      all.map((r) => (r.status === 'fulfilled' ? r.value : outcomeOf(r.reason))),
    ),
  );
  await step('streaming header on a single call', () =>
    raw(target, 'GET', '/trpc/health.check', { headers: { 'trpc-accept': 'application/jsonl' } }),
  );
  // A batch of one: the JSONL stream writes calls in the order they finish, which two runs need not share.
  await step('streaming batch', () =>
    raw(target, 'GET', `/trpc/auth.me?batch=1&input=${encodeURIComponent('{}')}`, {
      headers: { 'trpc-accept': 'application/jsonl' },
    }),
  );
  for (let attempt = 1; attempt <= 8; attempt += 1) {
    await step(`sign-in failure ${attempt}`, () =>
      clientOf(target).auth.signIn.mutate({ tenantSlug: slug, email, password: WRONG_PASSWORD }),
    );
    if (JSON.stringify(steps[`sign-in failure ${attempt}`]?.outcome).includes('TOO_MANY_REQUESTS'))
      break;
  }
  await step('mutation, sign-out clears the cookie', () => client.auth.signOut.mutate());
  await step('query after sign-out', () => client.auth.me.query());
  return steps;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_DATE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g;
const API_KEY = /\b(sk|pk)_(live|test)_[A-Za-z0-9]+/g;

/** Replaces what legitimately differs between two runs; counts (retry-after) only have to be positive. */
function normalised(value: unknown, tag: string, key?: string): unknown {
  if (typeof value === 'string') {
    if (key === 'x-request-id') return '<request-id>';
    if (key === 'retry-after') return Number(value) > 0 ? '<seconds>' : value;
    return value
      .replaceAll(tag, '<tag>')
      .replace(UUID, '<uuid>')
      .replace(ISO_DATE, '<date>')
      .replace(API_KEY, '<key>')
      .replace(/(tessera_\w+)=[^;|\s]+/g, '$1=<token>')
      .replace(/Expires=[^;|]+/gi, 'Expires=<date>');
  }
  if (typeof value === 'number' && key === 'retryAfterSeconds')
    return value > 0 ? '<seconds>' : value;
  if (Array.isArray(value)) return value.map((item) => normalised(item, tag));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalised(v, tag, k)]));
  }
  return value;
}

let lean: Target;
let stock: Target;
let leanSteps: Record<string, Step>;
let stockSteps: Record<string, Step>;

beforeAll(async () => {
  [lean, stock] = await Promise.all([targetOf(true), targetOf(false)]);
  const leanTag = randomBytes(4).toString('hex');
  const stockTag = randomBytes(4).toString('hex');
  leanSteps = normalised(await runMatrix(lean, leanTag), leanTag) as Record<string, Step>;
  stockSteps = normalised(await runMatrix(stock, stockTag), stockTag) as Record<string, Step>;
}, 120_000);
afterAll(async () => Promise.all([lean.app.close(), stock.app.close()]));

describe('the lean tRPC path answers exactly as the stock adapter', () => {
  test('both servers ran the same steps and each step made the same requests', () => {
    expect(Object.keys(leanSteps)).toEqual(Object.keys(stockSteps));
    for (const name of Object.keys(stockSteps)) {
      const requests = (s: Step | undefined) => s?.exchanges.map((e) => `${e.method} ${e.path}`);
      expect(requests(leanSteps[name]), name).toEqual(requests(stockSteps[name]));
    }
  });

  test('every step observes the same outcome, status codes, headers and bodies', () => {
    const strip = (s: Step | undefined) =>
      s && { outcome: s.outcome, exchanges: s.exchanges.map(({ framing: _, ...rest }) => rest) };
    for (const name of Object.keys(stockSteps))
      expect(strip(leanSteps[name]), name).toEqual(strip(stockSteps[name]));
  });

  test('the matrix reaches the answers it is meant to compare', () => {
    const statusOf = (name: string) => stockSteps[name]?.exchanges.map((e) => e.status);
    expect(statusOf('query, no input')).toEqual([200]);
    expect(statusOf('mutation, sign-up sets the session cookie')).toEqual([200]);
    expect(
      stockSteps['mutation, sign-up sets the session cookie']?.exchanges[0]?.headers['set-cookie'],
    ).toMatch(/tessera_session=<token>/);
    expect(statusOf('query with the session cookie')).toEqual([200]);
    expect(statusOf('mutation, zod input errors')).toEqual([400]);
    expect(JSON.stringify(stockSteps['mutation, zod input errors'])).toContain('fieldErrors');
    expect(JSON.stringify(stockSteps['mutation, domain error with a field'])).toContain(
      '"field":"allowedCidrs"',
    );
    expect(statusOf('query sent as POST')).toEqual([405]);
    expect(statusOf('mutation sent as GET')).toEqual([405]);
    expect(statusOf('unknown procedure')).toEqual([404]);
    expect(statusOf('query, malformed JSON input')).toEqual([400]);
    expect(statusOf('mutation, malformed JSON body')).toEqual([400]);
    expect(statusOf('mutation, oversized body')).toEqual([413]);
    expect(statusOf('mutation, cross-site')).toEqual([403]);
    expect(statusOf('batch over the cap')).toEqual([400]);
    expect(statusOf('query with the API key')).toEqual([200]);
    expect(statusOf('query with an unknown API key')).toEqual([401]);
    const locked = Object.entries(stockSteps).find(
      ([name, s]) => name.startsWith('sign-in failure') && s.exchanges[0]?.status === 429,
    );
    expect(locked?.[1].exchanges[0]?.headers['retry-after']).toBe('<seconds>');
    expect(JSON.stringify(locked?.[1].outcome)).toContain('account_locked');
    expect(
      stockSteps['query with the session cookie']?.exchanges[0]?.headers['cache-control'],
    ).toBe('no-store');
  });

  test('positive control: the lean server answered the single calls itself and passed the rest to the adapter', () => {
    const framing = (steps: Record<string, Step>, name: string) =>
      steps[name]?.exchanges.map((e) => e.framing);
    for (const name of [
      'query, no input',
      'mutation, sign-up sets the session cookie',
      'query with the session cookie',
      'query, GET with input',
      'query with the API key',
      'query, malformed JSON input',
      'sign-in failure 1',
    ]) {
      expect(framing(leanSteps, name), name).toEqual(['length']);
      expect(framing(stockSteps, name), name).toEqual(['chunked']);
    }
    for (const name of [
      'batch of two',
      'batch over the cap',
      'query sent as POST',
      'mutation sent as GET',
      'unknown procedure',
      'streaming batch',
      'query, unexpected query parameter',
    ]) {
      expect(framing(leanSteps, name), name).toEqual(['chunked']);
    }
  });

  test('a procedure that fails (database unreachable) answers the same 500 without internals', async () => {
    const dead = createDatabase('postgres://nobody:nothing@127.0.0.1:1/none', {
      connectionTimeoutMs: 500,
    });
    const servers = await Promise.all(
      [true, false].map((leanTrpc) =>
        buildServer(
          { ...defaultApiConfig, logLevel: 'silent' },
          { database: dead, services: testServices(), leanTrpc },
        ),
      ),
    );
    try {
      const answers = await Promise.all(
        servers.map(async (server) => {
          const res = await server.inject({ url: '/trpc/health.check' });
          const headers = Object.fromEntries(
            Object.entries(res.headers).filter(([name]) => !SKIPPED_HEADERS.has(name)),
          );
          return normalised({ status: res.statusCode, headers, body: res.json<unknown>() }, 'none');
        }),
      );
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[1]).toMatchObject({
        status: 500,
        body: { error: { data: { code: 'INTERNAL_SERVER_ERROR' } } },
      });
      expect(JSON.stringify(answers[0])).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      await dead.close();
    }
  });
});
