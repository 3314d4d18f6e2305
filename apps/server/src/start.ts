import { buildServer, type ApiConfig } from '@tessera/api';
import { assertRuntimeRoleSafe, createDatabase, migrate } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { resolveDatabase, runtimeRoleFromUrl } from './database.js';
import { loadOrCreateDevSecrets, withDevSecrets } from './dev-secrets.js';

export interface Running {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export function apiConfigOf(config: Config): ApiConfig {
  return {
    publicUrl: config.publicUrl,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    logLevel: config.logLevel,
    rateLimit: config.rateLimit,
    nodeEnv: config.nodeEnv,
  };
}

/** Compose: secrets, database (embedded or external), migrate, role check, server, listen. */
export async function start(config: Config, log: (line: string) => void): Promise<Running> {
  const needsDev = config.database === null || Object.keys(config.secrets).length < 3;
  const dev = needsDev ? await loadOrCreateDevSecrets(config.home) : null;
  if (dev) {
    log(`WARNING: development mode: secrets ${dev.created ? 'generated' : 'read'} from ${config.home}/secrets.json. Never use these in production.`);
  }
  const urls = await resolveDatabase(config, dev?.secrets ?? null, log);
  const secrets = dev ? withDevSecrets(config, dev.secrets) : config.secrets;
  try {
    await migrate({ ownerUrl: urls.ownerUrl, runtimeRole: runtimeRoleFromUrl(urls.appUrl), log });
    const database = createDatabase(urls.appUrl, { max: 20, applicationName: 'tessera-api' });
    await assertRuntimeRoleSafe(database.pool).catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    const app = await buildServer(apiConfigOf(config), { database });
    void secrets; // consumed by features as they land (keyring, sessions, API keys)
    const url = await app.listen({ port: config.port, host: config.host });
    return {
      app,
      url,
      stop: async () => {
        await app.close();
        await database.close();
        await urls.embedded?.stop();
      },
    };
  } catch (error) {
    await urls.embedded?.stop();
    throw error;
  }
}
