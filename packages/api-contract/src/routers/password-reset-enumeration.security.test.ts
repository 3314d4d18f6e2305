// Attack: account enumeration through auth.requestPasswordReset. The answer is the same for every
// address, but if only a real account makes the request write, audit and commit, its timing (and
// its load on the database) tells the two apart. The request runs the same statements, in the
// same order, whether or not the address belongs to an account. docs/design.md rule 5; ASVS V2.5.
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { createCaller, createTestContext, outboxMails, signUpOwner } from '../testing/index.js';

const db = useTestDatabase();
type Queryable = { query: (...args: unknown[]) => unknown };

const recording: { statements: string[] | null } = { statements: null };
const wrapped = new WeakSet<object>();

/** Records the text of every statement the app pool runs while `recording.statements` is set. */
function recordStatements(): void {
  db.app.pool.on('acquire', (acquired: object) => {
    if (wrapped.has(acquired)) return;
    wrapped.add(acquired);
    const client = acquired as Queryable;
    const query = client.query.bind(client);
    client.query = (...args: unknown[]) => {
      const [first] = args;
      const text = typeof first === 'string' ? first : (first as { text?: string }).text;
      recording.statements?.push(text ?? '<unknown>');
      return query(...args);
    };
  });
}

async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  recording.statements = [];
  try {
    await work();
    return recording.statements;
  } finally {
    recording.statements = null;
  }
}

test('a known and an unknown address run the same statements in the same order', async () => {
  recordStatements();
  const owner = await signUpOwner(db.app);
  await db.owner.pool.query(
    "INSERT INTO users (tenant_id, email, role, disabled_at) VALUES ($1, 'gone@example.com', 'member', now())",
    [owner.tenant.id],
  );
  const anon = createCaller(createTestContext(db.app, { services: owner.services }));
  const ask = (email: string) => () =>
    anon.auth.requestPasswordReset({ tenantSlug: owner.tenant.slug, email });

  const known = await statementsOf(ask(owner.user.email));
  const unknown = await statementsOf(ask('nobody@example.com'));
  const disabled = await statementsOf(ask('gone@example.com'));

  expect(known.length).toBeGreaterThan(2);
  expect(unknown).toEqual(known);
  expect(disabled).toEqual(known);
  // Only the real, active account got a link.
  const mails = await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
    template: 'password_reset',
  });
  expect(mails.map((m) => m.to)).toEqual([owner.user.email]);
  const { rows } = await db.owner.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM user_tokens WHERE tenant_id = $1 AND kind = 'password_reset'",
    [owner.tenant.id],
  );
  expect(Number(rows[0]?.n)).toBe(1);
});

test('both answers are identical', async () => {
  const owner = await signUpOwner(db.app);
  const anon = createCaller(createTestContext(db.app, { services: owner.services }));
  expect(
    await anon.auth.requestPasswordReset({
      tenantSlug: owner.tenant.slug,
      email: owner.user.email,
    }),
  ).toEqual({ ok: true });
  expect(
    await anon.auth.requestPasswordReset({
      tenantSlug: owner.tenant.slug,
      email: 'nobody@example.com',
    }),
  ).toEqual({ ok: true });
});
