import type { LogFormat } from './logger.js';
/** What `buildServer` needs; apps/server builds it from the environment (docs/contributing.md convention 10). */
export interface ApiConfig {
  /** The console's own origin, e.g. http://localhost:3000. Trusted for CORS and CSRF checks. */
  publicUrl: string;
  corsOrigins: readonly string[];
  /** Fastify `trustProxy`: false (socket address), true, a hop count, or a CIDR list. */
  trustProxy: boolean | number | string;
  logLevel: string;
  rateLimit: {
    /** Global per-IP requests per window (every tRPC call counts). */
    max: number;
    windowMs: number;
  };
  nodeEnv: 'development' | 'production' | 'test';
  /** Log lines as JSON (default) or readable (`logFormatFor`: a terminal outside production). */
  logFormat?: LogFormat;
  /** Load-shedding thresholds (plugins/load-shedding.ts); omitted: `defaultLoadShedding`. */
  loadShedding?: LoadSheddingThresholds;
  /** Resolved-session cache (SESSION_CACHE*); omitted: on, `defaultSessionCache`. */
  sessionCache?: SessionCacheSettings;
}

export interface SessionCacheSettings {
  /** false: every request with a session cookie runs resolve_session. */
  enabled: boolean;
  maxEntries: number;
  /** Backstop on an entry's life with no notification (1..60). */
  maxAgeSeconds: number;
}

export const defaultSessionCache: SessionCacheSettings = {
  enabled: true,
  maxEntries: 10_000,
  maxAgeSeconds: 30,
};

export interface LoadSheddingThresholds {
  /** Mean event-loop delay (ms) above which requests get 503; 0 disables. */
  maxEventLoopDelayMs: number;
  /** Event-loop utilisation (0..1) above which requests get 503; undefined disables. */
  maxEventLoopUtilization?: number | undefined;
  /** Milliseconds a request would wait for a database connection above which it gets 503. */
  maxPoolWaitMs: number;
  retryAfterSeconds: number;
}

export const defaultLoadShedding: LoadSheddingThresholds = {
  maxEventLoopDelayMs: 500,
  maxPoolWaitMs: 1000,
  retryAfterSeconds: 5,
};

export const defaultApiConfig: ApiConfig = {
  publicUrl: 'http://localhost:3000',
  corsOrigins: [],
  trustProxy: false,
  logLevel: 'info',
  rateLimit: { max: 300, windowMs: 60_000 },
  nodeEnv: 'development',
};
