/**
 * The real API plus the console, in-process, on 127.0.0.1 with a free port: buildServer on the
 * file's test database, cheap Argon2 parameters (testServices), and the console plugin on the
 * same instance. PUBLIC_URL is that origin, so the CSRF and CORS checks accept the browser.
 */
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { buildServer, defaultApiConfig } from '@tessera/api';
import { testAccountDeps, testServices } from '@tessera/api-contract/testing';
import type { Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../apps/web/dist',
);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface ConsoleServer {
  app: FastifyInstance;
  origin: string;
  close(): Promise<void>;
}

export async function startConsoleServer(
  database: Database,
  options: { now?: () => Date } = {},
): Promise<ConsoleServer> {
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
    throw new Error(
      `The console is not built (${WEB_DIST}): run the build first (pnpm build, or pnpm --filter @tessera/web build).`,
    );
  }
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const services = testServices({ accounts: testAccountDeps({ publicUrl: origin }) });
  const app = await buildServer(
    {
      ...defaultApiConfig,
      publicUrl: origin,
      logLevel: 'warn',
      rateLimit: { max: 10_000, windowMs: 60_000 },
    },
    { database, services, consoleRoot: WEB_DIST, ...(options.now ? { now: options.now } : {}) },
  );
  await app.listen({ host: '127.0.0.1', port });
  return { app, origin, close: () => app.close() };
}

/** Does the running server have this procedure yet? (Pages for unmerged routers say "not available yet".) */
export async function hasProcedure(origin: string, name: string): Promise<boolean> {
  const res = await fetch(`${origin}/trpc/${name}`);
  if (res.status !== 404) return true;
  const body = (await res.json()) as { error?: { message?: string } };
  return !body.error?.message?.startsWith('No procedure found');
}
