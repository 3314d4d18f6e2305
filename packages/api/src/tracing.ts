/**
 * OpenTelemetry span helpers. One implementation, in @tessera/db (src/tracing.ts), so
 * `withTenant`, the tRPC base procedure and the workers share it; re-exported here for the API's
 * own callers. Wiring an exporter: docs/deployment.md "Tracing". Pinned by tracing.test.ts.
 */
export {
  markSpanFailed,
  TRACER_NAME,
  traceJob,
  traceProcedure,
  traceTransaction,
  withSpan,
  type SpanAttributes,
} from '@tessera/db';
