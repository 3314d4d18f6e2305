/**
 * OpenTelemetry spans around procedures, database transactions and jobs, through the
 * OpenTelemetry API only. They live in the lowest package so that `withTenant` (here), the tRPC
 * base procedure (api-contract) and the workers (api) share one implementation; `@tessera/api`
 * re-exports them. With no SDK registered the API's tracer is a no-op, so these helpers cost a
 * function call; registering a NodeSDK with an exporter before the server starts turns them on
 * (docs/deployment.md "Tracing"). They take no request object and no tRPC types.
 *
 * Attributes are names, ids and counts chosen by the caller, never request input: no e-mail,
 * IP, token or free text (docs/design.md rule 4). Pinned by packages/api/src/tracing.test.ts and
 * tracing-procedure.db.test.ts.
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';

export const TRACER_NAME = '@tessera/api';

// A proxy: it finds the provider registered later (NodeSDK.start()) on first use.
const tracer = trace.getTracer(TRACER_NAME);

/** Safe attribute values only: strings, numbers and booleans (no objects that could carry input). */
export type SpanAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

function clean(attributes: SpanAttributes): Attributes {
  const out: Attributes = {};
  // for-in rather than Object.entries: no array per attribute on every procedure and transaction.
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Spans a caller marked failed without throwing (a tRPC result `{ ok: false }`): never set OK. */
const failed = new WeakSet<Span>();

/**
 * Marks a span as failed with the error's code (a domain code such as `invalid_credentials`,
 * looked up on the error and its cause) or its name; never the message, which may carry input.
 */
export function markSpanFailed(span: Span, error: unknown): void {
  failed.add(span);
  const errorName = error instanceof Error ? error.name : 'Error';
  const codeOf = (value: unknown): unknown =>
    typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : undefined;
  const causeCode = codeOf((error as { cause?: unknown } | null)?.cause);
  const reason = typeof causeCode === 'string' ? causeCode : codeOf(error);
  span.setAttributes({ 'error.type': typeof reason === 'string' ? reason : errorName });
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorName });
}

/**
 * Runs `fn` inside a span that is current for its duration (child spans nest under it when a
 * context manager is registered, as NodeSDK does). A thrown error marks the span as failed
 * (markSpanFailed), then propagates unchanged.
 */
export async function withSpan<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes: clean(attributes) });
  // No SDK registered: the no-op span has an invalid context, nothing to record or propagate.
  if (!span.isRecording() && !trace.isSpanContextValid(span.spanContext())) return fn(span);
  try {
    const result = await context.with(trace.setSpan(context.active(), span), () => fn(span));
    if (!failed.has(span)) span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    markSpanFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** A tRPC (or any RPC) call: `trpc auth.signIn`. Call from a middleware around `next()`. */
export function traceProcedure<T>(
  path: string,
  type: 'query' | 'mutation' | 'subscription',
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(
    `trpc ${path}`,
    { 'rpc.system': 'trpc', 'rpc.method': path, 'tessera.procedure.type': type },
    fn,
    SpanKind.SERVER,
  );
}

/** A database transaction, e.g. around `withTenant`; the tenant id is a UUID, not personal data. */
export function traceTransaction<T>(
  name: string,
  attributes: { tenantId?: string | undefined; readOnly?: boolean | undefined },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(
    `db.transaction ${name}`,
    {
      'db.system': 'postgresql',
      'tessera.tenant_id': attributes.tenantId,
      'tessera.read_only': attributes.readOnly,
    },
    fn,
    SpanKind.CLIENT,
  );
}

/** One background job run: `job gdpr-export`. */
export function traceJob<T>(
  queue: string,
  jobId: string,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(
    `job ${queue}`,
    { 'messaging.destination.name': queue, 'messaging.message.id': jobId },
    fn,
    SpanKind.CONSUMER,
  );
}
