import * as path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@tessera/db/embedded';
import pg from 'pg';
import type { Config } from './config.js';
import type { DevSecrets } from './dev-secrets.js';

export interface DatabaseUrls {
  ownerUrl: string;
  appUrl: string;
  /** The runtime role without a transaction-mode pooler (config `appDirectUrl`; embedded: `appUrl`). */
  appDirectUrl: string;
  embedded: EmbeddedPostgres | null;
}

const EMBEDDED_DATABASE = 'tessera';
const EMBEDDED_RUNTIME_USER = 'tessera_runtime';

/** External database from config, or the embedded one under TESSERA_HOME/pgdata. */
export async function resolveDatabase(
  config: Config,
  dev: DevSecrets | null,
  log: (line: string) => void,
): Promise<DatabaseUrls> {
  if (config.database) return { ...config.database, embedded: null };
  if (!dev) throw new Error('embedded database needs development secrets');
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(config.home, 'pgdata'),
    superuserPassword: dev.postgresPassword,
    settings: { max_connections: '200' },
    ownProcessGroup: true, // Ctrl-C stops the server, which stops PostgreSQL after its pool
    onLog: (line) => {
      if (/FATAL|PANIC|ERROR/.test(line)) log(line.trim());
    },
  });
  const admin = new pg.Client({ connectionString: embedded.url('postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      EMBEDDED_DATABASE,
    ]);
    // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is a constant
    if (!exists.rowCount) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await admin.end();
  }
  const appUrl = embedded.url(EMBEDDED_DATABASE, EMBEDDED_RUNTIME_USER, dev.runtimePassword);
  return {
    ownerUrl: embedded.url(EMBEDDED_DATABASE),
    appUrl,
    appDirectUrl: appUrl,
    embedded,
  };
}

export function runtimeRoleFromUrl(url: string): { user: string; password: string } {
  const parsed = new URL(url);
  return {
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}
