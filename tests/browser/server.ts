/**
 * The real API plus the console, in-process, on 127.0.0.1 with a free port: buildServer on the
 * file's test database, cheap Argon2 parameters (testServices), and the console plugin on the
 * same instance. PUBLIC_URL is that origin, so the CSRF and CORS checks accept the browser.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { buildServer, defaultApiConfig, startPrivacyWorkers } from '@tessera/api';
import type { Services } from '@tessera/api-contract';
import type { OutboundPolicy } from '@tessera/auth/outbound';
import { createTxtLookup, type DomainDnsOptions } from '@tessera/auth/domains';
import { testAccountDeps, testServices } from '@tessera/api-contract/testing';
import type { Database } from '@tessera/db';
import { freePort } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../apps/web/dist',
);

export interface ConsoleServer {
  app: FastifyInstance;
  origin: string;
  /** The services the server runs with (its keyring reads the outbox in tests). */
  services: Services;
  close(): Promise<void>;
}

const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startConsoleServer(
  database: Database,
  options: {
    now?: () => Date;
    privacyWorkers?: boolean;
    /** 'localhost' for WebAuthn, whose RP ID must be a domain name, not an IP address. */
    hostname?: 'localhost' | '127.0.0.1';
    /**
     * The outbound URL rule for privacy webhooks (stored URLs and worker deliveries) and SSO.
     * Unset: production (https, public addresses only), as without `services.sso`.
     */
    outbound?: OutboundPolicy;
    /** Resolvers for domain verification (a local DNS server); unset: the system's. */
    domainDns?: DomainDnsOptions;
    /** SSO routes (OIDC and SAML) under this SESSION_SECRET ring. */
    sessionSecret?: string;
  } = {},
): Promise<ConsoleServer> {
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
    throw new Error(
      `The console is not built (${WEB_DIST}): run the build first (pnpm build, or pnpm --filter @tessera/web build).`,
    );
  }
  const port = await freePort();
  const origin = `http://${options.hostname ?? '127.0.0.1'}:${port}`;
  const services = testServices({
    accounts: testAccountDeps({ publicUrl: origin }),
    ...(options.outbound ? { sso: { outbound: options.outbound, platformProviders: [] } } : {}),
    ...(options.domainDns ? { domains: { lookup: createTxtLookup(options.domainDns) } } : {}),
  });
  const app = await buildServer(
    {
      ...defaultApiConfig,
      publicUrl: origin,
      logLevel: 'warn',
      rateLimit: { max: 10_000, windowMs: 60_000 },
    },
    {
      database,
      services,
      consoleRoot: WEB_DIST,
      ...(options.now ? { now: options.now } : {}),
      ...(options.sessionSecret
        ? { sso: { sessionSecret: options.sessionSecret, platformProviders: [] } }
        : {}),
    },
  );
  await app.listen({ host: '127.0.0.1', port });
  // The GDPR workers as `pnpm start` runs them in-process, polling briskly for the test.
  const workers = options.privacyWorkers
    ? await startPrivacyWorkers({
        database,
        keyring: services.accounts.keyring,
        consoleUrl: origin,
        logger: quietLogger,
        pollingIntervalSeconds: 0.5,
        dispatchIntervalMs: 1_000,
        ...(options.outbound ? { webhooks: { outbound: options.outbound } } : {}),
        ...(options.now ? { now: options.now } : {}),
      })
    : null;
  return {
    app,
    origin,
    services,
    close: async () => {
      await workers?.stop();
      await app.close();
    },
  };
}
