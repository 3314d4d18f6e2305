/**
 * Vitest globalSetup: one embedded PostgreSQL for the whole run (2 cores cannot host one per
 * package), a migrated template database, and the runtime login role. Each test file clones the
 * template (use-test-database.ts). The cluster lives in a temporary folder and is deleted after.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../embedded.js';
import { migrate } from '../migrate.js';
import type { TestClusterInfo } from './cluster-info.js';

export const TEMPLATE_DATABASE = 'tessera_template';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'tessera-test-'));
  await fs.chmod(root, 0o755); // as root, postgres runs as the OS user "postgres"
  const superuserPassword = randomBytes(18).toString('base64url');
  const cluster = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pgdata'),
    superuserPassword,
    // Durability is irrelevant for throwaway test data; these make CREATE DATABASE and commits cheap.
    settings: {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '400',
      shared_buffers: '128MB',
    },
  });
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is a constant
  await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  await admin.end();
  const runtime = { user: 'tessera_test_runtime', password: randomBytes(18).toString('base64url') };
  await migrate({ ownerUrl: cluster.url(TEMPLATE_DATABASE), runtimeRole: runtime });
  const info: TestClusterInfo = {
    host: cluster.host,
    port: cluster.port,
    superuser: cluster.superuser,
    superuserPassword,
    runtimeUser: runtime.user,
    runtimePassword: runtime.password,
    template: TEMPLATE_DATABASE,
  };
  project.provide('tesseraCluster', info);
  return async () => {
    await cluster.stop();
    await fs.rm(root, { recursive: true, force: true });
  };
}
