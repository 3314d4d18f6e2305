// Attack: a tenant id that leaks from one pooled connection to the next request, or SQL smuggled
// through the one place that embeds a tenant id in SQL text (DESIGN rule 2 and its exception).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { expect, test } from 'vitest';
import { users } from './schema/index.js';
import { beginTenantSql, withTenant } from './tenant-context.js';
import { SQLSTATE, sqlStateOf, useTestDatabase } from './testing/index.js';

const db = useTestDatabase({ poolSize: 5 });

test('refuses a tenant id that is not a UUID before sending any SQL', async () => {
  for (const bad of ["x'; DROP TABLE users; --", '', '00000000-0000-0000-0000-00000000000g', `${randomUUID()} `, `${randomUUID()}'`]) {
    expect(() => beginTenantSql(bad)).toThrow(TypeError);
    await expect(db.withTenant(bad, async () => 1)).rejects.toThrow(TypeError);
  }
  expect(beginTenantSql('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toContain("'3f2504e0-4f89-11d3-9a0c-0305e82c3301'");
});

test('200 concurrent transactions over 10 tenants and 5 connections each see only their own rows', async () => {
  const tenants = await Promise.all(Array.from({ length: 10 }, () => db.seedTenant()));
  for (const [i, t] of tenants.entries()) {
    await db.withTenant(t.id, (tx) =>
      tx.insert(users).values(Array.from({ length: 3 }, (_, j) => ({ tenantId: t.id, email: `u${i}-${j}@example.com` }))),
    );
  }
  const results = await Promise.all(
    Array.from({ length: 200 }, async (_, n) => {
      const tenant = tenants[n % 10];
      if (!tenant) throw new Error('unreachable');
      const rows = await db.withTenant(tenant.id, async (tx) => {
        await tx.execute(sql`SELECT pg_sleep(0.001)`);
        return tx.select({ tenantId: users.tenantId }).from(users);
      });
      return { expected: tenant.id, rows };
    }),
  );
  for (const { expected, rows } of results) {
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.tenantId))).toEqual(new Set([expected]));
  }
  expect(db.app.pool.totalCount).toBeLessThanOrEqual(5);
});

test('a connection returned to the pool carries no tenant setting', async () => {
  const tenant = await db.seedTenant();
  await Promise.all(Array.from({ length: 10 }, () => db.withTenant(tenant.id, async (tx) => tx.execute(sql`SELECT 1`))));
  const clients = await Promise.all(Array.from({ length: 5 }, () => db.app.pool.connect()));
  try {
    for (const client of clients) {
      const { rows } = await client.query<{ v: string | null }>("SELECT current_setting('app.tenant_id', true) AS v");
      expect(rows[0]?.v ?? '').toBe('');
    }
  } finally {
    for (const client of clients) client.release();
  }
});

test('an error inside the callback rolls back and the connection is reusable', async () => {
  const tenant = await db.seedTenant();
  await expect(
    db.withTenant(tenant.id, async (tx) => {
      await tx.insert(users).values({ tenantId: tenant.id, email: 'rolled@example.com' });
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await db.withTenant(tenant.id, (tx) => tx.select().from(users))).toEqual([]);
  const { rows } = await db.app.pool.query<{ s: string }>('SELECT 1::text AS s');
  expect(rows[0]?.s).toBe('1');
});

test('a read-only tenant transaction refuses writes', async () => {
  const tenant = await db.seedTenant();
  const write = withTenant(db.app, tenant.id, (tx) => tx.insert(users).values({ tenantId: tenant.id, email: 'ro@example.com' }), {
    readOnly: true,
  });
  expect(await sqlStateOf(write)).toBe(SQLSTATE.readOnlyTransaction);
});
