/**
 * The only module that reads process.env (docs/contributing.md convention 10). `loadConfig(env)` is pure apart
 * from reading NAME_FILE secrets through the injected reader; it validates everything once and
 * returns a frozen Config. Errors name the variables, never their values.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parsePlatformProviders,
  PlatformProviderConfigError,
  type PlatformProvider,
} from '@tessera/api';
import { z } from 'zod';
import { defaultHome } from './home.js';

export const SECRET_NAMES = [
  'DATABASE_URL',
  'APP_DATABASE_URL',
  'APP_DATABASE_DIRECT_URL',
  'DATA_ENCRYPTION_KEYS',
  'SESSION_SECRET',
  'API_KEY_PEPPERS',
  'AUDIT_SIGNING_KEY',
  'METRICS_TOKEN',
  'SMTP_URL',
  'REDIS_URL',
  'TWILIO_AUTH_TOKEN',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
type DatabaseUrlName = 'DATABASE_URL' | 'APP_DATABASE_URL' | 'APP_DATABASE_DIRECT_URL';
const DATABASE_URL_NAMES: readonly SecretName[] = [
  'DATABASE_URL',
  'APP_DATABASE_URL',
  'APP_DATABASE_DIRECT_URL',
] satisfies DatabaseUrlName[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variables: readonly string[],
    detail: string,
  ) {
    super(`Invalid configuration: ${detail}`);
  }
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `v2:base64,v1:base64`, each key 32 bytes (docs/design.md "Secrets"). */
const keyRing = z.string().refine((value) => {
  const entries = value.split(',').map((e) => e.trim());
  const versions = new Set<string>();
  return (
    entries.length > 0 &&
    entries.every((entry) => {
      const match = /^(v[1-9]\d*):([A-Za-z0-9+/]+={0,2})$/.exec(entry);
      if (!match?.[1] || !match[2] || versions.has(match[1])) return false;
      versions.add(match[1]);
      return Buffer.from(match[2], 'base64').length === 32;
    })
  );
}, 'must be a key ring "v2:<base64 32 bytes>,v1:<base64 32 bytes>"');

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v) && URL.canParse(v), 'must be a postgres:// URL');
const origin = z
  .string()
  .refine(
    (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
    'must be an http(s) URL',
  );
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  TESSERA_HOME: z.string().min(1).optional(),
  DATABASE_URL: postgresUrl.optional(),
  APP_DATABASE_URL: postgresUrl.optional(),
  APP_DATABASE_DIRECT_URL: postgresUrl.optional(),
  PUBLIC_URL: origin.optional(),
  DOMAIN_DNS_SERVERS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const item of list)
        if (
          !/^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|\[[0-9a-fA-F:]+\](?::\d{1,5})?|[0-9a-fA-F:]+)$/.test(
            item,
          )
        )
          ctx.addIssue({
            code: 'custom',
            message:
              'must be a comma-separated list of resolver addresses (ip, ip:port or [ipv6]:port)',
          });
      return list;
    }),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const item of list)
        if (!origin.safeParse(item).success)
          ctx.addIssue({
            code: 'custom',
            message: 'must be a comma-separated list of http(s) origins',
          });
      return list;
    }),
  DATA_ENCRYPTION_KEYS: keyRing.optional(),
  SESSION_SECRET: keyRing.optional(),
  API_KEY_PEPPERS: keyRing.optional(),
  AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  METRICS_TOKEN: z.string().min(16).optional(),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL')
    .optional(),
  // SMS one-time codes (docs/mfa-factors.md): all three or none; without them production has no SMS.
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC...)')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_FROM: z
    .string()
    .regex(
      /^(\+[1-9][0-9]{7,14}|MG[0-9a-fA-F]{32})$/,
      'must be an E.164 number or a Messaging Service SID (MG...)',
    )
    .optional(),
  TRUST_PROXY: z.string().optional(),
  METRICS_PORT: int(1, 65_535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_MAX: int(1, 10_000_000).default(300),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400).default(60),
  TENANT_SIGNUP: z.enum(['open', 'closed']).default('open'),
  PASSWORD_BREACH_CHECK: z.enum(['off', 'on']).default('off'),
  PASSWORD_BREACH_CHECK_URL: origin.optional(),
  IN_PROCESS_WORKERS: z.enum(['on', 'off']).default('on'),
  GDPR_DISPATCH_INTERVAL_SECONDS: int(1, 3600).default(10),
  GDPR_STALE_AFTER_SECONDS: int(1, 86_400).default(900),
  LOAD_SHED_EVENT_LOOP_DELAY_MS: int(0, 60_000).default(500),
  LOAD_SHED_EVENT_LOOP_UTILIZATION: z.coerce.number().gt(0).max(1).optional(),
  LOAD_SHED_POOL_WAIT_MS: int(1, 600_000).default(1000),
  DATABASE_POOL_MAX: int(1, 1000).default(20),
  HASHING_LOW_PRIORITY: z.enum(['on', 'off']).default('on'),
  LOAD_SHED_RETRY_AFTER_SECONDS: int(1, 3600).default(5),
  SESSION_CACHE: z.enum(['on', 'off']).default('on'),
  SESSION_CACHE_MAX_ENTRIES: int(1, 1_000_000).default(10_000),
  SESSION_CACHE_MAX_AGE_SECONDS: int(1, 60).default(30),
});

export type Env = Readonly<Record<string, string | undefined>>;

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  home: string;
  /**
   * Where `home` comes from: TESSERA_HOME, the checkout's `.tessera/`, or a per-checkout folder
   * outside the checkout because the embedded PostgreSQL could not reach `.tessera/` (home.ts).
   */
  homeSource: 'TESSERA_HOME' | 'checkout' | 'outside-checkout';
  /**
   * Absent: start the embedded PostgreSQL under `home`. `appDirectUrl` (APP_DATABASE_DIRECT_URL,
   * default `appUrl`) reaches the same role without a transaction-mode pooler: LISTEN, the job
   * queue, the GDPR workers and the CLIs use it; `appUrl` may then point at PgBouncer.
   */
  database: { ownerUrl: string; appUrl: string; appDirectUrl: string } | null;
  publicUrl: string;
  corsOrigins: readonly string[];
  /** DNS resolvers for domain verification (DOMAIN_DNS_SERVERS); empty: the system's. */
  domainDnsServers: readonly string[];
  trustProxy: boolean | number | string;
  logLevel: string;
  rateLimit: { max: number; windowMs: number };
  tenantSignup: 'open' | 'closed';
  /** Have I Been Pwned range check (k-anonymity); off by default, fails open on timeout. */
  breachCheck: { enabled: boolean; baseUrl: string | undefined };
  /** Platform-wide OIDC providers (SSO_PROVIDERS=google,entra; SSO_<ID>_ISSUER, _CLIENT_ID, _CLIENT_SECRET[_FILE], _NAME). */
  ssoProviders: readonly PlatformProvider[];
  /** Twilio for SMS codes (TWILIO_ACCOUNT_SID, TWILIO_FROM; the token is in `secrets`); null: none. */
  twilio: { accountSid: string; from: string } | null;
  /** /metrics on its own port (METRICS_PORT) or on the API port behind METRICS_TOKEN. */
  metricsPort: number | undefined;
  /**
   * GDPR workers: `inProcess` false (IN_PROCESS_WORKERS=off) leaves them to `pnpm worker`
   * processes; a processing request untouched for `staleAfterMs` is dispatched again (its
   * advisory lock keeps a live run single), and due requests are swept every `dispatchIntervalMs`.
   */
  workers: { inProcess: boolean; dispatchIntervalMs: number; staleAfterMs: number };
  /** Load-shedding thresholds (defaults: 500 ms loop delay, 1 s estimated wait for a connection, Retry-After 5). */
  loadShedding: {
    maxEventLoopDelayMs: number;
    maxEventLoopUtilization: number | undefined;
    maxPoolWaitMs: number;
    retryAfterSeconds: number;
  };
  /** Connections of the API's runtime pool (DATABASE_POOL_MAX). */
  databasePoolMax: number;
  /** HASHING_LOW_PRIORITY: run password hashing threads at nice 19 (Linux). */
  hashingLowPriority: boolean;
  /**
   * Resolved sessions cached per process, evicted through LISTEN/NOTIFY (SESSION_CACHE=on|off,
   * SESSION_CACHE_MAX_ENTRIES, SESSION_CACHE_MAX_AGE_SECONDS: backstop, 1..60).
   */
  sessionCache: { enabled: boolean; maxEntries: number; maxAgeSeconds: number };
  /** Absent secrets are generated under `home` in development (never in production). */
  secrets: Partial<Record<Exclude<SecretName, DatabaseUrlName>, string>>;
}

/** Resolves NAME_FILE over NAME for every secret; both set is an error (which one wins is unclear). */
function resolveFileSecrets(
  env: Env,
  readFile: (file: string) => string,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  const errors: string[] = [];
  for (const name of SECRET_NAMES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') errors.push(`${name} and ${name}_FILE`);
    try {
      out[name] = readFile(file).trim();
    } catch {
      throw new ConfigError([`${name}_FILE`], `${name}_FILE: cannot read the file it names`);
    }
  }
  if (errors.length) throw new ConfigError(errors, `set only one of ${errors.join('; ')}`);
  for (const [key, value] of Object.entries(out)) if (value === '') out[key] = undefined;
  return out;
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value; // comma-separated addresses or CIDRs, as Fastify's trustProxy accepts
}

/**
 * The process's own configuration: the one read of process.env. A default home the embedded
 * PostgreSQL could not reach (root, checkout in a 0700 folder) moves to a per-checkout folder
 * outside the checkout, the same one on every start (home.ts).
 */
export function loadConfigFromProcess(): Config {
  const config = loadConfig(process.env);
  if (config.homeSource !== 'checkout' || config.database) return config;
  const home = defaultHome(REPO_ROOT, config.home);
  return home === config.home
    ? config
    : Object.freeze({ ...config, home, homeSource: 'outside-checkout' });
}

export function loadConfig(
  env: Env,
  readFile: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): Config {
  const parsed = schema.safeParse(resolveFileSecrets(env, readFile));
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '?')))];
    const detail = parsed.error.issues
      .map((i) => `${String(i.path[0] ?? '?')} ${i.message}`)
      .join('; ');
    throw new ConfigError(names, detail);
  }
  const e = parsed.data;
  if ((e.DATABASE_URL === undefined) !== (e.APP_DATABASE_URL === undefined)) {
    throw new ConfigError(
      ['DATABASE_URL', 'APP_DATABASE_URL'],
      'DATABASE_URL (owner, for migrations) and APP_DATABASE_URL (runtime role) are set together or not at all',
    );
  }
  if (e.APP_DATABASE_DIRECT_URL !== undefined && e.APP_DATABASE_URL === undefined) {
    throw new ConfigError(
      ['APP_DATABASE_DIRECT_URL'],
      'APP_DATABASE_DIRECT_URL is the direct way to the APP_DATABASE_URL role; set it only with APP_DATABASE_URL',
    );
  }
  if (e.NODE_ENV === 'production') {
    const required = [
      'DATABASE_URL',
      'APP_DATABASE_URL',
      'DATA_ENCRYPTION_KEYS',
      'SESSION_SECRET',
      'API_KEY_PEPPERS',
      'SMTP_URL',
    ] as const;
    const missing = required.filter((name) => e[name] === undefined);
    if (missing.length)
      throw new ConfigError(
        missing,
        `production refuses generated secrets and the embedded database; set ${missing.join(', ')}`,
      );
  }
  const twilioVars = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const;
  const twilioSet = twilioVars.filter((name) => e[name] !== undefined);
  if (twilioSet.length > 0 && twilioSet.length < twilioVars.length)
    throw new ConfigError(
      twilioVars.filter((name) => e[name] === undefined),
      'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM are set together or not at all',
    );
  let ssoProviders: PlatformProvider[];
  try {
    ssoProviders = parsePlatformProviders(
      env,
      e.NODE_ENV === 'production' ? 'production' : 'development',
      readFile,
    );
  } catch (error) {
    if (error instanceof PlatformProviderConfigError)
      throw new ConfigError(error.variables, error.message);
    throw error;
  }
  const config: Config = {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    home: path.resolve(e.TESSERA_HOME ?? path.join(REPO_ROOT, '.tessera')),
    homeSource: e.TESSERA_HOME === undefined ? 'checkout' : 'TESSERA_HOME',
    database:
      e.DATABASE_URL && e.APP_DATABASE_URL
        ? {
            ownerUrl: e.DATABASE_URL,
            appUrl: e.APP_DATABASE_URL,
            appDirectUrl: e.APP_DATABASE_DIRECT_URL ?? e.APP_DATABASE_URL,
          }
        : null,
    publicUrl: new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).origin,
    corsOrigins: e.CORS_ORIGINS,
    domainDnsServers: e.DOMAIN_DNS_SERVERS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000 },
    tenantSignup: e.TENANT_SIGNUP,
    ssoProviders,
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_FROM
        ? { accountSid: e.TWILIO_ACCOUNT_SID, from: e.TWILIO_FROM }
        : null,
    metricsPort: e.METRICS_PORT,
    workers: {
      inProcess: e.IN_PROCESS_WORKERS === 'on',
      dispatchIntervalMs: e.GDPR_DISPATCH_INTERVAL_SECONDS * 1000,
      staleAfterMs: e.GDPR_STALE_AFTER_SECONDS * 1000,
    },
    loadShedding: {
      maxEventLoopDelayMs: e.LOAD_SHED_EVENT_LOOP_DELAY_MS,
      maxEventLoopUtilization: e.LOAD_SHED_EVENT_LOOP_UTILIZATION,
      maxPoolWaitMs: e.LOAD_SHED_POOL_WAIT_MS,
      retryAfterSeconds: e.LOAD_SHED_RETRY_AFTER_SECONDS,
    },
    databasePoolMax: e.DATABASE_POOL_MAX,
    hashingLowPriority: e.HASHING_LOW_PRIORITY === 'on',
    sessionCache: {
      enabled: e.SESSION_CACHE === 'on',
      maxEntries: e.SESSION_CACHE_MAX_ENTRIES,
      maxAgeSeconds: e.SESSION_CACHE_MAX_AGE_SECONDS,
    },
    breachCheck: {
      enabled: e.PASSWORD_BREACH_CHECK === 'on',
      baseUrl: e.PASSWORD_BREACH_CHECK_URL,
    },
    secrets: Object.fromEntries(
      SECRET_NAMES.filter((n) => !DATABASE_URL_NAMES.includes(n) && e[n] !== undefined).map((n) => [
        n,
        e[n],
      ]),
    ),
  };
  return Object.freeze(config);
}

/** The outbound-URL rule's mode (SSO issuers, privacy webhooks): loopback allowed outside production only. */
export function outboundModeOf(config: Pick<Config, 'nodeEnv'>): 'production' | 'development' {
  return config.nodeEnv === 'production' ? 'production' : 'development';
}

/** Domain verification's resolvers, when DOMAIN_DNS_SERVERS names any (services and workers). */
export function domainDnsOf(config: Pick<Config, 'domainDnsServers'>): {
  domainDns?: { servers: readonly string[] };
} {
  return config.domainDnsServers.length > 0
    ? { domainDns: { servers: config.domainDnsServers } }
    : {};
}
