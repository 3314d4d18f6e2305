/**
 * A fresh database per test file, cloned from the migrated template, dropped afterwards.
 * `app` connects as the runtime role (never the owner: a test run as the owner would pass even
 * with RLS missing). `owner` exists to simulate an attacker with database access, and for
 * catalog checks.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabase, type Database } from '../client.js';
import { tenants } from '../schema/index.js';
import { withTenant, type TenantTx } from '../tenant-context.js';
import { clusterUrl, type TestClusterInfo } from './cluster-info.js';

export interface SeededTenant {
  id: string;
  slug: string;
  name: string;
}

export interface TestDatabase {
  readonly info: TestClusterInfo;
  readonly name: string;
  /** Runtime role (member of tessera_app). */
  readonly app: Database;
  /** Owner (superuser of the embedded cluster). */
  readonly owner: Database;
  readonly appUrl: string;
  readonly ownerUrl: string;
  withTenant<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T>;
  seedTenant(overrides?: Partial<Omit<SeededTenant, 'id'>>): Promise<SeededTenant>;
}

async function createFromTemplate(info: TestClusterInfo, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: clusterUrl(info, 'postgres', 'owner') });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is generated here ([a-z0-9_] only)
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${info.template} STRATEGY FILE_COPY`);
        return;
      } catch (error) {
        // Two files cloning at once may see "source database is being accessed by other users".
        if (attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 50));
      }
    }
  } finally {
    await admin.end();
  }
}

async function dropDatabase(info: TestClusterInfo, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: clusterUrl(info, 'postgres', 'owner') });
  await admin.connect();
  // eslint-disable-next-line tessera/no-raw-sql-interpolation -- database names cannot be bind parameters; this one is generated here ([a-z0-9_] only)
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
}

export function useTestDatabase(options: { poolSize?: number } = {}): TestDatabase {
  const info = inject('tesseraCluster');
  const name = `test_${randomBytes(6).toString('hex')}`;
  let app: Database | undefined;
  let owner: Database | undefined;
  const must = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('useTestDatabase(): use the database inside tests or hooks');
    return value;
  };
  beforeAll(async () => {
    await createFromTemplate(info, name);
    app = createDatabase(clusterUrl(info, name, 'runtime'), {
      max: options.poolSize ?? 10,
      applicationName: 'tessera-test',
    });
    owner = createDatabase(clusterUrl(info, name, 'owner'), {
      max: 3,
      applicationName: 'tessera-test-owner',
    });
  });
  afterAll(async () => {
    await app?.close();
    await owner?.close();
    await dropDatabase(info, name);
  });
  return {
    info,
    name,
    get app() {
      return must(app);
    },
    get owner() {
      return must(owner);
    },
    appUrl: clusterUrl(info, name, 'runtime'),
    ownerUrl: clusterUrl(info, name, 'owner'),
    withTenant: (tenantId, fn) => withTenant(must(app), tenantId, fn),
    seedTenant: async (overrides = {}) => {
      const id = randomUUID();
      const slug = overrides.slug ?? `t-${randomBytes(5).toString('hex')}`;
      const name = overrides.name ?? `Tenant ${slug}`;
      await withTenant(must(app), id, (tx) => tx.insert(tenants).values({ id, slug, name }));
      return { id, slug, name };
    },
  };
}
