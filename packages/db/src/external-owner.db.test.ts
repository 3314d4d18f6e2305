// An external PostgreSQL whose owner is NOT a superuser (managed databases): FORCE RLS applies to
// the owner, so SECURITY DEFINER lookups (docs/design.md rule 3) must still find rows, while the runtime
// role stays confined to its tenant. Runs the whole migration as such an owner.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { clusterUrl } from './testing/cluster-info.js';
import { inject } from 'vitest';
import { createDatabase, type Database } from './client.js';
import { lookupTenantBySlug } from './lookups.js';
import { migrate } from './migrate.js';
import { assertRuntimeRoleSafe } from './role-check.js';
import { tenants } from './schema/index.js';
import { withTenant } from './tenant-context.js';

const info = inject('tesseraCluster');
const suffix = randomBytes(4).toString('hex');
const owner = { user: `ext_owner_${suffix}`, password: randomBytes(12).toString('hex') };
const runtime = { user: `ext_runtime_${suffix}`, password: randomBytes(12).toString('hex') };
const dbName = `ext_${suffix}`;
const urlAs = (role: { user: string; password: string }): string =>
  `postgres://${role.user}:${role.password}@${info.host}:${info.port}/${dbName}`;
let app: Database;

async function asSuperuser(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: clusterUrl(info, 'postgres', 'owner') });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

beforeAll(async () => {
  // The names are generated above from hex only; DDL cannot take bind parameters.
  await asSuperuser(`CREATE ROLE ${owner.user} LOGIN CREATEROLE PASSWORD '${owner.password}'`);
  await asSuperuser(`GRANT tessera_app TO ${owner.user} WITH ADMIN OPTION`);
  await asSuperuser(`CREATE DATABASE ${dbName} OWNER ${owner.user}`);
  await migrate({ ownerUrl: urlAs(owner), runtimeRole: runtime });
  app = createDatabase(urlAs(runtime), { max: 3 });
});

afterAll(async () => {
  await app.close();
  await asSuperuser(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
});

test('a non-superuser owner can migrate, and the runtime role passes the start-up check', async () => {
  await expect(assertRuntimeRoleSafe(app.pool)).resolves.toBeUndefined();
});

test('pre-tenant lookups find rows despite FORCE RLS on the owner', async () => {
  const id = randomUUID();
  const slug = `ext-${suffix}`;
  await withTenant(app, id, (tx) => tx.insert(tenants).values({ id, slug, name: 'External' }));
  expect(await lookupTenantBySlug(app.pool, slug)).toEqual({ id, slug, name: 'External' });
});

test('the runtime role still sees nothing without a tenant context', async () => {
  const { rows } = await app.pool.query('SELECT * FROM tenants');
  expect(rows).toEqual([]);
});
