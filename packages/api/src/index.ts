export { buildServer, type ServerDeps } from './build-server.js';
export { defaultApiConfig, type ApiConfig } from './config.js';
export { logFormatFor, loggerOptions, REDACTED_KEYS, type LogFormat } from './logger.js';
export type { PrincipalResolver } from './plugins/principal.js';
export { createServices, selectSmsProvider, type ServicesConfig } from './services.js';
export {
  createOutboxSender,
  fileTransport,
  smtpTransport,
  type MailTransport,
} from './workers/outbox-sender.js';
export { reencryptAllSecrets } from '@tessera/auth/maintenance';
export { parseKeyring } from '@tessera/auth';
export {
  checkLegacyUser,
  importLegacyUsers,
  MAX_IMPORT_ROWS,
  normalizeEmail,
  type LegacyUser,
} from '@tessera/auth/accounts';
export { createRateLimiter } from '@tessera/auth/rate-limit';
export { consolePlugin, type ConsoleOptions } from './plugins/console.js';
export { auditExportPlugin, type AuditExportPluginOptions } from './routes/audit-export.js';
export {
  auditExportChunks,
  auditPublicKeyOf,
  recordAuditEvent,
  runAuditRetention,
  setAuditRetention,
  signAuditCheckpoint,
  signDueAuditCheckpoints,
  verifyAuditChain,
  type AuditEventInput,
  type AuditExportFormat,
} from '@tessera/auth/audit';
export {
  parsePlatformProviders,
  PlatformProviderConfigError,
  reencryptSsoSecrets,
  type PlatformProvider,
} from '@tessera/auth/sso';
export { metricsPlugin, type TesseraMetrics } from './plugins/metrics.js';
export { loadSheddingPlugin } from './plugins/load-shedding.js';
export { createRedisClient, RedisRateLimitStore } from './redis-rate-limit-store.js';
export { withSpan, traceProcedure, traceTransaction, traceJob } from './tracing.js';
export { startPrivacyWorkers } from './workers/register-workers.js';
export {
  readErasureLedger,
  replayErasureLedger,
  type ErasureLedgerEntry,
} from '@tessera/auth/privacy';
