import {
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { afterAll, describe, expect, test } from 'vitest';
import { traceJob, traceProcedure, traceTransaction, withSpan } from './tracing.js';

interface Recorded {
  name: string;
  kind: SpanKind | undefined;
  attributes: Attributes;
  status?: SpanStatus;
  ended: boolean;
}

/** The smallest provider that records what the helpers do (an SDK is not a dependency). */
function recordingProvider(): { provider: TracerProvider; spans: Recorded[] } {
  const spans: Recorded[] = [];
  const startSpan = (name: string, options: SpanOptions = {}): Span => {
    const record: Recorded = {
      name,
      kind: options.kind,
      attributes: { ...options.attributes },
      ended: false,
    };
    spans.push(record);
    const span: Span = {
      spanContext: () => ({
        traceId: '0'.repeat(31) + '1',
        spanId: '0'.repeat(15) + '1',
        traceFlags: 1,
      }),
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

afterAll(() => trace.disable());

test('without a registered SDK the helpers only run the function', async () => {
  expect(await withSpan('noop', { a: 1 }, async (span) => span.isRecording())).toBe(false);
});

describe('with a tracer provider', () => {
  const { provider, spans } = recordingProvider();
  test('registering it', () => expect(trace.setGlobalTracerProvider(provider)).toBe(true));

  test('a procedure span carries the path and kind, ends, and reports success', async () => {
    spans.length = 0;
    expect(await traceProcedure('users.list', 'query', async () => 'result')).toBe('result');
    expect(spans).toEqual([
      {
        name: 'trpc users.list',
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'trpc',
          'rpc.method': 'users.list',
          'tessera.procedure.type': 'query',
        },
        status: { code: SpanStatusCode.OK },
        ended: true,
      },
    ]);
  });

  test('a failure marks the span with the error code only and rethrows the same error', async () => {
    spans.length = 0;
    const error = Object.assign(new Error('wrong password for ana@example.com'), {
      code: 'invalid_credentials',
    });
    await expect(
      traceTransaction('sign-in', { tenantId: '7d0b5f6e-3f2a-4c1e-9d7b-2a1e5c9f0b11' }, async () =>
        Promise.reject(error),
      ),
    ).rejects.toBe(error);
    expect(spans[0]).toMatchObject({
      name: 'db.transaction sign-in',
      kind: SpanKind.CLIENT,
      status: { code: SpanStatusCode.ERROR, message: 'Error' },
      ended: true,
    });
    expect(spans[0]?.attributes).toMatchObject({
      'db.system': 'postgresql',
      'tessera.tenant_id': '7d0b5f6e-3f2a-4c1e-9d7b-2a1e5c9f0b11',
      'error.type': 'invalid_credentials',
    });
    expect(JSON.stringify(spans)).not.toContain('ana@example.com');
  });

  test('job spans name the queue and job id; undefined attributes are dropped', async () => {
    spans.length = 0;
    await traceJob('gdpr-export', 'job-1', async () => undefined);
    await withSpan('custom', { kept: true, dropped: undefined }, async () => undefined);
    expect(spans.map((s) => [s.name, s.kind, s.attributes])).toEqual([
      [
        'job gdpr-export',
        SpanKind.CONSUMER,
        { 'messaging.destination.name': 'gdpr-export', 'messaging.message.id': 'job-1' },
      ],
      ['custom', SpanKind.INTERNAL, { kept: true }],
    ]);
  });
});
