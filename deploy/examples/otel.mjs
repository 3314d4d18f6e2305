// Example OpenTelemetry bootstrap (docs/deployment.md "Tracing"); not a dependency of Tessera.
// Install next to the checkout:  npm i @opentelemetry/sdk-node @opentelemetry/exporter-trace-otlp-http
// Start with:  node --import ./deploy/examples/otel.mjs apps/server/dist/main.js
// Configure with the standard variables, e.g. OTEL_SERVICE_NAME=tessera-api and
// OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 . Tessera's spans (procedures,
// transactions, jobs) come from @opentelemetry/api and attach to this SDK automatically.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

const sdk = new NodeSDK({ traceExporter: new OTLPTraceExporter() });
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
