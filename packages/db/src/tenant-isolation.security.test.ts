// Attack: a request in tenant B's context reads or writes tenant A's rows, or a request with no
// tenant context touches any tenant row. docs/design.md rule 1 (RLS, fail closed) and rule 2 (context
// is transaction-scoped). All queries run as the runtime role, never the owner.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { tenants, users } from './schema/index.js';
import { SQLSTATE, sqlStateOf, useTestDatabase } from './testing/index.js';

const db = useTestDatabase();

async function seedUser(tenantId: string, email: string): Promise<string> {
  const [row] = await db.withTenant(tenantId, (tx) =>
    tx.insert(users).values({ tenantId, email }).returning({ id: users.id }),
  );
  if (!row) throw new Error('insert returned nothing');
  return row.id;
}

describe('with RLS as the runtime role', () => {
  test("rows of tenant A are invisible in tenant B's context", async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    const userId = await seedUser(a.id, 'alice@example.com');
    const seen = await db.withTenant(b.id, (tx) => tx.select().from(users));
    expect(seen).toEqual([]);
    const byId = await db.withTenant(b.id, (tx) =>
      tx.select().from(users).where(eq(users.id, userId)),
    );
    expect(byId).toEqual([]);
    expect(await db.withTenant(b.id, (tx) => tx.select().from(tenants))).toEqual([
      expect.objectContaining({ id: b.id }),
    ]);
  });

  test("updating and deleting tenant A's rows from tenant B's context affects nothing", async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    const userId = await seedUser(a.id, 'victim@example.com');
    const updated = await db.withTenant(b.id, (tx) =>
      tx.update(users).set({ role: 'owner' }).where(eq(users.id, userId)).returning(),
    );
    const deleted = await db.withTenant(b.id, (tx) =>
      tx.delete(users).where(eq(users.id, userId)).returning(),
    );
    expect([updated, deleted]).toEqual([[], []]);
    const still = await db.withTenant(a.id, (tx) =>
      tx.select({ role: users.role }).from(users).where(eq(users.id, userId)),
    );
    expect(still).toEqual([{ role: 'member' }]);
  });

  test("inserting a row with another tenant's id is rejected", async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    expect(
      await sqlStateOf(
        db.withTenant(b.id, (tx) =>
          tx.insert(users).values({ tenantId: a.id, email: 'x@example.com' }),
        ),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
  });

  test('moving a row to another tenant by UPDATE is rejected', async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    const userId = await seedUser(a.id, 'mover@example.com');
    expect(
      await sqlStateOf(
        db.withTenant(a.id, (tx) =>
          tx.update(users).set({ tenantId: b.id }).where(eq(users.id, userId)),
        ),
      ),
    ).toBe(SQLSTATE.insufficientPrivilege);
  });

  test('with no tenant set, reads return nothing and writes fail', async () => {
    const a = await db.seedTenant();
    await seedUser(a.id, 'bob@example.com');
    expect((await db.app.pool.query('SELECT * FROM users')).rows).toEqual([]);
    expect((await db.app.pool.query('SELECT * FROM tenants')).rows).toEqual([]);
    await expect(
      db.app.pool.query('INSERT INTO users (tenant_id, email) VALUES ($1, $2)', [
        a.id,
        'eve@example.com',
      ]),
    ).rejects.toThrow(/row-level security/);
    await expect(
      db.app.pool.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
        randomUUID(),
        'sneaky',
        'Sneaky',
      ]),
    ).rejects.toThrow(/row-level security/);
  });

  test('the runtime role cannot TRUNCATE or disable RLS', async () => {
    await expect(db.app.pool.query('TRUNCATE users')).rejects.toThrow(/permission denied/);
    await expect(db.app.pool.query('ALTER TABLE users DISABLE ROW LEVEL SECURITY')).rejects.toThrow(
      /must be owner/,
    );
    const client = await db.app.pool.connect();
    try {
      await client.query('SET row_security = off');
      await expect(client.query('SELECT * FROM users')).rejects.toThrow(/row-level security/);
    } finally {
      client.release(true); // destroy: a session-level SET must never go back to the pool
    }
  });

  test('an e-mail is unique per tenant, not globally', async () => {
    const a = await db.seedTenant();
    const b = await db.seedTenant();
    await seedUser(a.id, 'same@example.com');
    await expect(seedUser(b.id, 'same@example.com')).resolves.toMatch(/-/);
    expect(await sqlStateOf(seedUser(a.id, 'same@example.com'))).toBe(SQLSTATE.uniqueViolation);
  });
});
