import * as path from 'node:path';
import { startPrivacyWorkers } from '@tessera/api/workers';
import { dummyVerify, lowerHashingPriority } from '@tessera/auth/passwords';
import { fileURLToPath } from 'node:url';
import {
  auditPublicKeyOf,
  buildServer,
  logFormatFor,
  createOutboxSender,
  createRedisClient,
  RedisRateLimitStore,
  signDueAuditCheckpoints,
  createServices,
  fileTransport,
  selectSmsProvider,
  smtpTransport,
  type ApiConfig,
} from '@tessera/api';
import { assertRuntimeRoleSafe, createDatabase, migrate } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import { domainDnsOf, outboundModeOf, type Config } from './config.js';
import { resolveDatabase, runtimeRoleFromUrl } from './database.js';
import { loadOrCreateDevSecrets, withDevSecrets } from './dev-secrets.js';

export interface Running {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** `stdoutIsTTY` picks the log format (`logFormatFor`): readable on a terminal outside production. */
export function apiConfigOf(
  config: Config,
  stdoutIsTTY = process.stdout.isTTY === true,
): ApiConfig {
  return {
    logFormat: logFormatFor({ nodeEnv: config.nodeEnv, stdoutIsTTY }),
    publicUrl: config.publicUrl,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    logLevel: config.logLevel,
    rateLimit: config.rateLimit,
    nodeEnv: config.nodeEnv,
    loadShedding: config.loadShedding,
    sessionCache: config.sessionCache,
  };
}

/**
 * The last start-up line: where the console is and how to make the first tenant (the console's
 * sign-up creates a tenant with its owner; TENANT_SIGNUP=closed turns that off).
 */
export function readyMessage(
  config: Pick<Config, 'publicUrl' | 'tenantSignup'>,
  listenUrl: string,
): string {
  const signUp = `${config.publicUrl}/sign-up`;
  const firstTenant =
    config.tenantSignup === 'open'
      ? `Create the first tenant and its owner at ${signUp}`
      : `Sign-up is closed (TENANT_SIGNUP=closed): to create the first tenant, start once with TENANT_SIGNUP=open and use ${signUp}`;
  return `Tessera is listening on ${listenUrl} (console: ${config.publicUrl}/). ${firstTenant}`;
}

function requireSecret(secrets: Config['secrets'], name: keyof Config['secrets']): string {
  const value = secrets[name];
  if (!value) throw new Error(`${name} is not configured`);
  return value;
}

/** Compose: secrets, database (embedded or external), migrate, role check, server, listen. */
export async function start(config: Config, log: (line: string) => void): Promise<Running> {
  const rings = [
    'DATA_ENCRYPTION_KEYS',
    'SESSION_SECRET',
    'API_KEY_PEPPERS',
    'AUDIT_SIGNING_KEY',
  ] as const;
  const needsDev =
    config.nodeEnv !== 'production' &&
    (config.database === null || rings.some((name) => !config.secrets[name]));
  if (config.homeSource === 'outside-checkout') {
    log(
      `TESSERA_HOME is ${config.home}: started as root, the embedded PostgreSQL runs as the OS user "postgres", who cannot reach the checkout's .tessera/. This folder belongs to this checkout and is used again on every start; set TESSERA_HOME to choose another.`,
    );
  }
  const dev = needsDev ? await loadOrCreateDevSecrets(config.home) : null;
  if (dev) {
    log(
      `WARNING: development mode: secrets ${dev.created ? 'generated' : 'read'} from ${config.home}/secrets.json. Never use these in production.`,
    );
  }
  const urls = await resolveDatabase(config, dev?.secrets ?? null, log);
  const secrets = dev ? withDevSecrets(config, dev.secrets) : config.secrets;
  try {
    await migrate({ ownerUrl: urls.ownerUrl, runtimeRole: runtimeRoleFromUrl(urls.appUrl), log });
    // APP_DATABASE_URL may be a transaction-mode pooler: session-bound work (LISTEN, the job queue,
    // the GDPR workers' advisory locks) then uses APP_DATABASE_DIRECT_URL (docs/scaling.md).
    const pooled = urls.appDirectUrl !== urls.appUrl;
    const database = createDatabase(urls.appUrl, {
      max: config.databasePoolMax,
      applicationName: 'tessera-api',
      ...(pooled ? { directUrl: urls.appDirectUrl } : {}),
    });
    await assertRuntimeRoleSafe(database.pool).catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    const redis = secrets.REDIS_URL ? createRedisClient(secrets.REDIS_URL) : null;
    const rateLimitStore = redis
      ? new RedisRateLimitStore(redis, {
          onError: (e) => log(`redis rate-limit store failed, counting per process: ${String(e)}`),
        })
      : undefined;
    const services = createServices({
      ...(rateLimitStore ? { rateLimitStore } : {}),
      dataEncryptionKeys: requireSecret(secrets, 'DATA_ENCRYPTION_KEYS'),
      apiKeyPeppers: requireSecret(secrets, 'API_KEY_PEPPERS'),
      publicUrl: config.publicUrl,
      signupOpen: config.tenantSignup === 'open',
      callLimit: config.rateLimit,
      ...domainDnsOf(config),
      sms: selectSmsProvider({
        production: config.nodeEnv === 'production',
        twilio:
          config.twilio && secrets.TWILIO_AUTH_TOKEN
            ? { ...config.twilio, authToken: secrets.TWILIO_AUTH_TOKEN }
            : null,
        log,
      }),
      sso: {
        mode: outboundModeOf(config),
        platformProviders: config.ssoProviders,
        onLoopback: (host) =>
          log(
            `WARNING: outbound URL host ${host} (SSO issuer or privacy webhook) is loopback (allowed outside production only)`,
          ),
      },
      breachCheck: config.breachCheck.enabled
        ? {
            baseUrl: config.breachCheck.baseUrl,
            onError: (reason) =>
              log(`breached-password check failed open: ${JSON.stringify(reason)}`),
          }
        : undefined,
    });
    const consoleRoot = fileURLToPath(new URL('../../web/dist/', import.meta.url));
    const signingKey = secrets.AUDIT_SIGNING_KEY;
    const auditPublicKey = signingKey ? auditPublicKeyOf(signingKey) : undefined;
    const app = await buildServer(apiConfigOf(config), {
      database,
      services,
      consoleRoot,
      metrics: { token: secrets.METRICS_TOKEN, port: config.metricsPort },
      ...(redis ? { redis } : {}),
      ...(rateLimitStore ? { rateLimitStore } : {}),
      sso: {
        sessionSecret: requireSecret(secrets, 'SESSION_SECRET'),
        platformProviders: config.ssoProviders,
      },
      ...(auditPublicKey ? { auditPublicKey } : {}),
    });
    const transport = secrets.SMTP_URL
      ? smtpTransport(secrets.SMTP_URL)
      : fileTransport(path.join(config.home, 'mail'), app.log);
    if (!secrets.SMTP_URL)
      app.log.warn(
        'SMTP_URL is not set: mail is written to TESSERA_HOME/mail and logged (development only)',
      );
    const outbox = createOutboxSender({
      database,
      keyring: services.accounts.keyring,
      transport,
      logger: app.log,
    });
    if (config.hashingLowPriority) {
      // Hashing yields the cores to the event loop and PostgreSQL (packages/auth hashing-priority.ts).
      const lowered = await lowerHashingPriority(() =>
        Promise.all(Array.from({ length: 16 }, () => dummyVerify())),
      );
      app.log.info(
        { threads: lowered.threads.length, how: lowered.how },
        'password hashing threads run at nice 19',
      );
    }
    const url = await app.listen({ port: config.port, host: config.host });
    outbox.start();
    // IN_PROCESS_WORKERS=off: the GDPR queue is left to `pnpm worker` processes (scale-out).
    const metrics = app.hasDecorator('tesseraMetrics') ? app.tesseraMetrics : null;
    const workerDatabase =
      config.workers.inProcess && pooled
        ? createDatabase(urls.appDirectUrl, { max: 10, applicationName: 'tessera-worker' })
        : database;
    const privacyWorkers = config.workers.inProcess
      ? await startPrivacyWorkers({
          database: workerDatabase,
          keyring: services.accounts.keyring,
          consoleUrl: config.publicUrl,
          logger: app.log,
          ...domainDnsOf(config),
          limiter: services.accounts.limiter,
          dispatchIntervalMs: config.workers.dispatchIntervalMs,
          staleAfterMs: config.workers.staleAfterMs,
          // One outbound rule for storing webhook URLs (procedures) and for delivering to them.
          ...(services.sso ? { webhooks: { outbound: services.sso.outbound } } : {}),
          ...(metrics
            ? {
                onJobFinished: (queue: string, outcome: string, seconds: number) =>
                  metrics.jobFinished(queue, outcome, seconds),
              }
            : {}),
        })
      : null;
    if (privacyWorkers && metrics) metrics.watchQueues(() => privacyWorkers.queueDepth());
    // Anchor every tenant's audit chain head every 10 minutes (docs/audit-log.md "Checkpoints").
    const checkpoints = signingKey
      ? setInterval(
          () =>
            void signDueAuditCheckpoints(database, { signingKey }).catch((err: unknown) =>
              app.log.error({ err }, 'audit checkpoint signing failed'),
            ),
          10 * 60_000,
        )
      : undefined;
    checkpoints?.unref();
    return {
      app,
      url,
      stop: async () => {
        await privacyWorkers?.stop();
        clearInterval(checkpoints);
        await outbox.stop();
        await app.close();
        if (workerDatabase !== database) await workerDatabase.close();
        await database.close();
        redis?.disconnect();
        await urls.embedded?.stop();
      },
    };
  } catch (error) {
    await urls.embedded?.stop();
    throw error;
  }
}
