// Spans are wired, not only defined: a tRPC call through the real server produces a
// `trpc <path>` span, and the tenant transaction it opens (withTenant) is a child of it. Uses the
// smallest in-memory TracerProvider and an AsyncLocalStorage context manager written against the
// OpenTelemetry API's interfaces (an SDK is not a dependency). Refusals mark the span with the
// domain reason only; no personal data reaches attributes (docs/design.md rule 4).
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  ROOT_CONTEXT,
  trace,
  type Attributes,
  type Context,
  type ContextManager,
  type Span,
  type SpanKind,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { signUpOwner, testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from './build-server.js';
import { defaultApiConfig } from './config.js';

interface Recorded {
  name: string;
  kind: SpanKind | undefined;
  spanId: string;
  parentId: string | undefined;
  attributes: Attributes;
  status?: SpanStatus;
  ended: boolean;
}

class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

function recordingProvider(): { provider: TracerProvider; spans: Recorded[] } {
  const spans: Recorded[] = [];
  let next = 0;
  const startSpan = (
    name: string,
    options: SpanOptions = {},
    ctx: Context = context.active(),
  ): Span => {
    const spanId = (next += 1).toString(16).padStart(16, '0');
    const parentId = trace.getSpan(ctx)?.spanContext().spanId;
    const record: Recorded = {
      name,
      kind: options.kind,
      spanId,
      parentId,
      attributes: { ...options.attributes },
      ended: false,
    };
    spans.push(record);
    const span: Span = {
      spanContext: () => ({ traceId: '0'.repeat(31) + '1', spanId, traceFlags: 1 }),
      setAttribute: (key, value) => ((record.attributes[key] = value), span),
      setAttributes: (attributes) => (Object.assign(record.attributes, attributes), span),
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      setStatus: (status) => ((record.status = status), span),
      updateName: () => span,
      end: () => void (record.ended = true),
      isRecording: () => true,
      recordException: () => undefined,
    };
    return span;
  };
  const tracer = {
    startSpan,
    startActiveSpan: () => {
      throw new Error('not used');
    },
  } as unknown as Tracer;
  return { provider: { getTracer: () => tracer }, spans };
}

const db = useTestDatabase();
const services = testServices();
const { provider, spans } = recordingProvider();
let app: FastifyInstance;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalContextManager());
  trace.setGlobalTracerProvider(provider);
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services },
  );
});
afterAll(async () => {
  await app.close();
  trace.disable();
  context.disable();
});

test('a procedure call produces a procedure span with the tenant transaction as its child', async () => {
  const owner = await signUpOwner(db.app, { services });
  spans.length = 0;
  const res = await app.inject({
    url: '/trpc/users.list',
    cookies: { tessera_session: owner.token },
  });
  expect(res.statusCode).toBe(200);
  const procedure = spans.find((s) => s.name === 'trpc users.list');
  expect(procedure).toMatchObject({
    attributes: {
      'rpc.system': 'trpc',
      'rpc.method': 'users.list',
      'tessera.procedure.type': 'query',
    },
    status: { code: 1 },
    ended: true,
  });
  const transactions = spans.filter(
    (s) => s.name === 'db.transaction tenant' && s.parentId === procedure?.spanId,
  );
  expect(transactions.length).toBeGreaterThanOrEqual(1);
  expect(transactions[0]).toMatchObject({
    attributes: { 'db.system': 'postgresql', 'tessera.tenant_id': owner.tenant.id },
    ended: true,
  });
  expect(JSON.stringify(spans)).not.toContain(owner.user.email);
});

test('a refused call ends its span as failed with the domain reason, never the message or input', async () => {
  spans.length = 0;
  const res = await app.inject({
    method: 'POST',
    url: '/trpc/auth.signIn',
    headers: { 'content-type': 'application/json' },
    payload: {
      tenantSlug: 'no-such-tenant',
      email: 'nobody@example.com',
      password: 'wrong-password-here',
    },
  });
  expect(res.statusCode).toBe(401);
  const procedure = spans.find((s) => s.name === 'trpc auth.signIn');
  expect(procedure).toMatchObject({
    status: { code: 2 },
    attributes: { 'error.type': 'invalid_credentials' },
    ended: true,
  });
  expect(JSON.stringify(spans)).not.toMatch(/nobody@example\.com|wrong-password-here/);
});
