// Attack: a tenant id that leaks from one pooled connection to the next request, or SQL smuggled
// through the tenant id (docs/design.md rule 2: transaction-scoped and parameterised).
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, test } from 'vitest';
import { users } from './schema/index.js';
import {
  TenantTransactionAbortedError,
  TenantTransactionMisuseError,
  withTenant,
} from './tenant-context.js';
import { SQLSTATE, sqlStateOf, useTestDatabase } from './testing/index.js';

const db = useTestDatabase({ poolSize: 5 });

/** Records the text and values of every statement sent on the pool's connections while `body` runs. */
async function recordStatements(
  body: () => Promise<unknown>,
): Promise<{ text: string; values: unknown[] }[]> {
  const seen: { text: string; values: unknown[] }[] = [];
  const originals = new Map<object, unknown>();
  const onAcquire = (client: { query: (...args: unknown[]) => unknown }): void => {
    if (originals.has(client)) return;
    const original = client.query;
    originals.set(client, original);
    client.query = (...args: unknown[]) => {
      const [config, values] = args;
      const raw = typeof config === 'string' ? config : (config as { text?: unknown }).text;
      const text = typeof raw === 'string' ? raw : '';
      const bound = Array.isArray(values)
        ? values
        : Array.isArray((config as { values?: unknown }).values)
          ? (config as { values: unknown[] }).values
          : [];
      seen.push({ text, values: bound });
      return original.apply(client, args);
    };
  };
  db.app.pool.on('acquire', onAcquire);
  try {
    await body();
  } finally {
    db.app.pool.off('acquire', onAcquire);
    for (const [client, original] of originals) (client as { query: unknown }).query = original;
  }
  return seen;
}

test('refuses a tenant id that is not a UUID before sending any SQL', async () => {
  for (const bad of [
    "x'; DROP TABLE users; --",
    '',
    '00000000-0000-0000-0000-00000000000g',
    `${randomUUID()} `,
    `${randomUUID()}'`,
  ]) {
    const statements = await recordStatements(() =>
      expect(db.withTenant(bad, async () => 1)).rejects.toThrow(TypeError),
    );
    expect(statements).toEqual([]);
  }
});

test('the tenant id travels only as a bind parameter, never in SQL text', async () => {
  const tenant = await db.seedTenant();
  const upper = tenant.id.toUpperCase();
  const statements = await recordStatements(() =>
    withTenant(db.app, upper, (tx) => tx.select().from(users), { readOnly: true }),
  );
  expect(statements.map((s) => s.text)).toEqual([
    'BEGIN READ ONLY',
    // eslint-disable-next-line tessera/no-set-app-setting -- asserts the statement tenant-context.ts sends; this test sends nothing itself
    "SELECT pg_catalog.set_config('app.tenant_id', $1, true)",
    expect.stringMatching(/^select /),
    'COMMIT',
  ]);
  expect(statements[1]?.values).toEqual([tenant.id]); // canonical (lower-case) form
  for (const statement of statements) expect(statement.text.toLowerCase()).not.toContain(tenant.id);
});

test('a statement that failed inside the callback, even one it caught, makes withTenant throw and commits nothing', async () => {
  const tenant = await db.seedTenant();
  const run = db.withTenant(tenant.id, async (tx) => {
    await tx.insert(users).values({ tenantId: tenant.id, email: 'kept@example.com' });
    await tx.execute(sql`SELECT 1/0`).catch(() => undefined); // swallowed by the callback
    return 'looks fine';
  });
  await expect(run).rejects.toBeInstanceOf(TenantTransactionAbortedError);
  expect(await db.withTenant(tenant.id, (tx) => tx.select().from(users))).toEqual([]);
});

test('200 concurrent transactions over 10 tenants and 5 connections each see only their own rows', async () => {
  const tenants = await Promise.all(Array.from({ length: 10 }, () => db.seedTenant()));
  for (const [i, t] of tenants.entries()) {
    await db.withTenant(t.id, (tx) =>
      tx.insert(users).values(
        Array.from({ length: 3 }, (_, j) => ({
          tenantId: t.id,
          email: `u${i}-${j}@example.com`,
        })),
      ),
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
  await Promise.all(
    Array.from({ length: 10 }, () =>
      db.withTenant(tenant.id, async (tx) => tx.execute(sql`SELECT 1`)),
    ),
  );
  const clients = await Promise.all(Array.from({ length: 5 }, () => db.app.pool.connect()));
  try {
    for (const client of clients) {
      const { rows } = await client.query<{ v: string | null }>(
        "SELECT current_setting('app.tenant_id', true) AS v",
      );
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
  const write = withTenant(
    db.app,
    tenant.id,
    (tx) => tx.insert(users).values({ tenantId: tenant.id, email: 'ro@example.com' }),
    {
      readOnly: true,
    },
  );
  expect(await sqlStateOf(write)).toBe(SQLSTATE.readOnlyTransaction);
});

/** Counts the system-call-level writes (net.Socket's _write and _writev) on every connection of the pool while `body` runs. */
async function countSocketWrites(body: () => Promise<unknown>): Promise<number> {
  let writes = 0;
  const patched: { socket: Record<string, unknown>; write: unknown; writev: unknown }[] = [];
  const onAcquire = (client: object): void => {
    const socket = (client as { connection: { stream: Record<string, unknown> } }).connection
      .stream;
    if (patched.some((p) => p.socket === socket)) return;
    const write = socket._write as (...args: unknown[]) => unknown;
    const writev = socket._writev as (...args: unknown[]) => unknown;
    patched.push({ socket, write, writev });
    socket._write = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return write.apply(this, args);
    };
    socket._writev = function (this: unknown, ...args: unknown[]) {
      writes += 1;
      return writev.apply(this, args);
    };
  };
  db.app.pool.on('acquire', onAcquire);
  try {
    await body();
  } finally {
    db.app.pool.off('acquire', onAcquire);
    for (const p of patched) Object.assign(p.socket, { _write: p.write, _writev: p.writev });
  }
  return writes;
}

test('BEGIN, set_config and the first statement leave in one write; COMMIT in a second', async () => {
  const tenant = await db.seedTenant();
  const writes = await countSocketWrites(() =>
    withTenant(db.app, tenant.id, (tx) => tx.select().from(users), { readOnly: true }),
  );
  expect(writes).toBe(2);
});

test('a callback that waits for other I/O before its first statement still runs in its tenant', async () => {
  const tenant = await db.seedTenant();
  const seen = await withTenant(db.app, tenant.id, async (tx) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return (await tx.execute(sql`SELECT current_setting('app.tenant_id') AS tenant`)).rows[0];
  });
  expect(seen).toEqual({ tenant: tenant.id });
});

test('a single-statement read is one write and one round trip: BEGIN, set_config, the statement and COMMIT together', async () => {
  const tenant = await db.seedTenant();
  await db.owner.pool.query("INSERT INTO users (tenant_id, email) VALUES ($1, 'one@example.com')", [
    tenant.id,
  ]);
  let rows: unknown[] = [];
  const writes = await countSocketWrites(async () => {
    rows = await withTenant(
      db.app,
      tenant.id,
      async (tx) => (await tx.client.query('SELECT email FROM public.users')).rows,
      { readOnly: true, singleStatement: true },
    );
  });
  expect(writes).toBe(1);
  expect(rows).toEqual([{ email: 'one@example.com' }]); // RLS applied: only this tenant's row
  const built = await countSocketWrites(() =>
    withTenant(db.app, tenant.id, (tx) => tx.select({ email: users.email }).from(users), {
      readOnly: true,
      singleStatement: true,
    }),
  );
  expect(built).toBe(1); // drizzle's builder issues its statement in time too
});

test('a single-statement callback that issues a second statement is refused before it is sent, even if it catches the refusal', async () => {
  const tenant = await db.seedTenant();
  const lockKey = Math.floor(Math.random() * 1_000_000_000);
  const seen: string[] = [];
  await expect(
    withTenant(
      db.app,
      tenant.id,
      async (tx) => {
        await tx.client.query('SELECT 1');
        // Had it been sent, this backend would hold the session-level lock until it disconnects.
        await tx.client
          .query('SELECT pg_advisory_lock($1)', [lockKey])
          .catch((error: unknown) => seen.push((error as Error).name));
      },
      { readOnly: true, singleStatement: true },
    ),
  ).rejects.toBeInstanceOf(TenantTransactionMisuseError);
  expect(seen).toEqual(['TenantTransactionMisuseError']);
  const { rows } = await db.owner.pool.query(
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
    [lockKey],
  );
  expect(rows[0]).toEqual({ n: 0 });
  // The connection is clean for the next transaction.
  expect(
    await withTenant(
      db.app,
      tenant.id,
      async (tx) =>
        (await tx.execute(sql`SELECT current_setting('app.tenant_id') AS tenant`)).rows[0],
    ),
  ).toEqual({ tenant: tenant.id });
});

test('a single-statement callback that throws before its first statement sends nothing at all', async () => {
  const tenant = await db.seedTenant();
  const sent = await recordStatements(async () => {
    await expect(
      withTenant(
        db.app,
        tenant.id,
        () => {
          throw new Error('synchronous');
        },
        { readOnly: true, singleStatement: true },
      ),
    ).rejects.toThrow('synchronous');
  });
  expect(sent).toEqual([]); // no BEGIN to roll back: the first statement would have opened it
  expect(
    await withTenant(
      db.app,
      tenant.id,
      async (tx) => (await tx.client.query('SELECT 3 AS n')).rows,
      { readOnly: true, singleStatement: true },
    ),
  ).toEqual([{ n: 3 }]);
});

/**
 * Records the SQL text of every Parse and simple-protocol Query message written on the pool's
 * connections while `body` runs (BEGIN and COMMIT go as simple queries).
 */
async function recordMessages(
  body: () => Promise<unknown>,
): Promise<{ parsed: string[]; simple: string[] }> {
  const recorded = { parsed: [] as string[], simple: [] as string[] };
  type Connection = { parse: (q: { text: string }) => void; query: (text: string) => void };
  const patched: {
    connection: Connection;
    parse: Connection['parse'];
    query: Connection['query'];
  }[] = [];
  const onAcquire = (client: object): void => {
    const connection = (client as { connection: Connection }).connection;
    if (patched.some((p) => p.connection === connection)) return;
    const { parse, query } = connection;
    patched.push({ connection, parse, query });
    connection.parse = function (this: unknown, message: { text: string }) {
      recorded.parsed.push(message.text);
      parse.call(this, message);
    };
    connection.query = function (this: unknown, text: string) {
      recorded.simple.push(text);
      query.call(this, text);
    };
  };
  db.app.pool.on('acquire', onAcquire);
  try {
    await body();
  } finally {
    db.app.pool.off('acquire', onAcquire);
    for (const p of patched) Object.assign(p.connection, { parse: p.parse, query: p.query });
  }
  return recorded;
}

describe('a single statement with the tenant set in one implicit transaction (no BEGIN, no COMMIT)', () => {
  test('RLS applies, the tenant id is only ever a bind parameter, and nothing of the setting stays on the connection', async () => {
    const [mine, other] = [await db.seedTenant(), await db.seedTenant()];
    for (const [tenant, email] of [
      [mine, 'mine@example.com'],
      [other, 'other@example.com'],
    ] as const)
      await db.owner.pool.query('INSERT INTO users (tenant_id, email) VALUES ($1, $2)', [
        tenant.id,
        email,
      ]);
    let seen: unknown[] = [];
    const { parsed, simple } = await recordMessages(async () => {
      const runs = await Promise.all(
        Array.from({ length: 12 }, (_, n) =>
          withTenant(
            db.app,
            (n % 2 === 0 ? mine : other).id.toUpperCase(),
            async (tx) => (await tx.client.query('SELECT email FROM public.users')).rows,
            { readOnly: true, singleStatement: true },
          ),
        ),
      );
      seen = runs;
    });
    expect(seen).toEqual(
      Array.from({ length: 12 }, (_, n) => [
        { email: n % 2 === 0 ? 'mine@example.com' : 'other@example.com' },
      ]),
    );
    expect(simple).toEqual([]); // no BEGIN, no COMMIT
    for (const text of parsed) {
      expect(text.toLowerCase()).not.toContain(mine.id);
      expect(text.toLowerCase()).not.toContain(other.id);
    }
    const clients = await Promise.all(Array.from({ length: 5 }, () => db.app.pool.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ tenant: string | null; readOnly: string }>(
          `SELECT current_setting('app.tenant_id', true) AS tenant,
                  current_setting('transaction_read_only') AS "readOnly"`,
        );
        expect(rows[0]).toEqual({ tenant: '', readOnly: 'off' });
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  test('read-only refuses a write; read-write commits one and RLS checks the row it writes', async () => {
    const [tenant, other] = [await db.seedTenant(), await db.seedTenant()];
    const insert = (tenantId: string, email: string, readOnly: boolean) =>
      withTenant(
        db.app,
        tenant.id,
        (tx) =>
          tx.client.query('INSERT INTO users (tenant_id, email) VALUES ($1, $2)', [
            tenantId,
            email,
          ]),
        { readOnly, singleStatement: true },
      );
    expect(await sqlStateOf(insert(tenant.id, 'ro@example.com', true))).toBe(
      SQLSTATE.readOnlyTransaction,
    );
    await insert(tenant.id, 'rw@example.com', false);
    await expect(insert(other.id, 'smuggled@example.com', false)).rejects.toMatchObject({
      code: '42501', // new row violates row-level security policy
    });
    const { rows } = await db.owner.pool.query<{ email: string }>(
      'SELECT email FROM users WHERE tenant_id = ANY($1::uuid[]) ORDER BY email',
      [[tenant.id, other.id]],
    );
    expect(rows).toEqual([{ email: 'rw@example.com' }]);
  });

  test('a failure the callback caught still makes withTenant throw; a second statement at once is refused unsent', async () => {
    const tenant = await db.seedTenant();
    await expect(
      withTenant(
        db.app,
        tenant.id,
        (tx) => tx.client.query('SELECT 1/0').catch(() => 'swallowed'),
        { readOnly: true, singleStatement: true },
      ),
    ).rejects.toBeInstanceOf(TenantTransactionAbortedError);
    const lockKey = Math.floor(Math.random() * 1_000_000_000);
    const refused: string[] = [];
    await expect(
      withTenant(
        db.app,
        tenant.id,
        async (tx) => {
          const first = tx.client.query('SELECT 1');
          await tx.client
            .query('SELECT pg_advisory_lock($1)', [lockKey])
            .catch((error: unknown) => refused.push((error as Error).name));
          return first;
        },
        { readOnly: true, singleStatement: true },
      ),
    ).rejects.toBeInstanceOf(TenantTransactionMisuseError);
    expect(refused).toEqual(['TenantTransactionMisuseError']);
    const { rows } = await db.owner.pool.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
      [lockKey],
    );
    expect(rows[0]).toEqual({ n: 0 });
  });
});

test('a single-statement callback that waits first, or fails, behaves as an ordinary transaction', async () => {
  const tenant = await db.seedTenant();
  const waited = await withTenant(
    db.app,
    tenant.id,
    async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return (await tx.execute(sql`SELECT current_setting('app.tenant_id') AS tenant`)).rows[0];
    },
    { readOnly: true, singleStatement: true },
  );
  expect(waited).toEqual({ tenant: tenant.id });
  await expect(
    withTenant(db.app, tenant.id, (tx) => tx.client.query('SELECT * FROM no_such_table'), {
      readOnly: true,
      singleStatement: true,
    }),
  ).rejects.toMatchObject({ code: '42P01' });
  expect(
    await withTenant(
      db.app,
      tenant.id,
      async (tx) => (await tx.client.query('SELECT 2 AS n')).rows,
      { readOnly: true, singleStatement: true },
    ),
  ).toEqual([{ n: 2 }]);
});

test('the tenant is set by a statement prepared once per connection, still bound to this transaction', async () => {
  const [first, second] = [await db.seedTenant(), await db.seedTenant()];
  const seen = await withTenant(db.app, first.id, async (tx) => {
    await tx.client.query('SELECT 1');
    return withTenant(
      db.app,
      second.id,
      async (inner) =>
        (
          await inner.client.query<{ tenant: string; prepared: string[] }>(
            `SELECT current_setting('app.tenant_id') AS tenant,
                  array(SELECT name FROM pg_catalog.pg_prepared_statements ORDER BY name) AS prepared`,
          )
        ).rows[0],
    );
  });
  expect(seen?.tenant).toBe(second.id); // a named statement is still bound per call, never reused with old values
  expect(seen?.prepared).toContain('tessera_set_tenant');
});

test('a prepared LIMIT $1 read is planned once per connection, not again on every call', async () => {
  const tenant = await db.seedTenant();
  const text = 'SELECT id, email FROM public.users ORDER BY id LIMIT $1';
  const client = await db.app.pool.connect();
  try {
    for (let n = 0; n < 12; n += 1) {
      await client.query('BEGIN');
      // eslint-disable-next-line tessera/no-set-app-setting -- a raw connection of the test's own, to read pg_prepared_statements on it afterwards
      await client.query("SELECT pg_catalog.set_config('app.tenant_id', $1, true)", [tenant.id]);
      await client.query(text, [20]);
      await client.query('COMMIT');
    }
    const { rows } = await client.query<{ generic: number; custom: number }>(
      `SELECT generic_plans::int AS generic, custom_plans::int AS custom
         FROM pg_catalog.pg_prepared_statements WHERE statement = $1`,
      [text],
    );
    // PostgreSQL's default plans the first five afresh here, and every one afresh on a table
    // where the generic estimate of the LIMIT looks worse (the bench's 1,000-user tenants).
    expect(rows).toEqual([{ generic: 12, custom: 0 }]);
  } finally {
    client.release();
  }
});

test("drizzle's parameterised statements are prepared on the connection too", async () => {
  const tenant = await db.seedTenant();
  const prepared = await withTenant(db.app, tenant.id, async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.email, 'nobody@example.com'));
    await tx.execute(sql`SELECT ${'a value'}::text AS v`);
    const { rows } = await tx.client.query<{ statement: string }>(
      'SELECT statement FROM pg_catalog.pg_prepared_statements',
    );
    return rows.map((row) => row.statement);
  });
  expect(prepared).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^select "id" from "users" where "users"\."email" = \$1/),
      'SELECT $1::text AS v',
    ]),
  );
});

test('a single statement that is itself BEGIN is refused and its connection destroyed, never handed to the next caller inside a transaction', async () => {
  const tenant = await db.seedTenant();
  await db.owner.pool.query(
    "INSERT INTO users (tenant_id, email) VALUES ($1, 'held@example.com')",
    [tenant.id],
  );
  for (const [statement, readOnly] of [
    ['BEGIN', true],
    ['START TRANSACTION', false],
  ] as const) {
    await expect(
      withTenant(db.app, tenant.id, (tx) => tx.client.query(statement), {
        readOnly,
        singleStatement: true,
      }),
    ).rejects.toBeInstanceOf(TenantTransactionMisuseError);
  }
  const clients = await Promise.all(Array.from({ length: 5 }, () => db.app.pool.connect()));
  try {
    for (const client of clients) {
      expect(client.getTransactionStatus()).toBe('I');
      const { rows } = await client.query<{ tenant: string; emails: number }>(
        `SELECT coalesce(current_setting('app.tenant_id', true), '') AS tenant,
                (SELECT count(*)::int FROM public.users) AS emails`,
      );
      expect(rows[0]).toEqual({ tenant: '', emails: 0 }); // no tenant, so RLS shows nothing
    }
  } finally {
    for (const client of clients) client.release();
  }
});

test('a value that cannot be serialised is refused before sending, and the named statement keeps working on that connection', async () => {
  const tenant = await db.seedTenant();
  const text = 'SELECT $1::jsonb AS j';
  const client = await db.app.pool.connect();
  try {
    expect((await client.query(text, [{ a: 1 }])).rows).toEqual([{ j: { a: 1 } }]);
    await expect(client.query(text, [{ big: 1n }])).rejects.toThrow(TypeError); // JSON has no BigInt
    expect((await client.query(text, [{ a: 2 }])).rows).toEqual([{ j: { a: 2 } }]);
  } finally {
    client.release();
  }
  const read = (value: unknown) =>
    withTenant(db.app, tenant.id, async (tx) => (await tx.client.query(text, [value])).rows, {
      readOnly: true,
      singleStatement: true,
    });
  for (let n = 0; n < 6; n += 1) {
    await expect(read({ big: 1n })).rejects.toThrow(TypeError);
    expect(await read({ n })).toEqual([{ j: { n } }]);
  }
});
