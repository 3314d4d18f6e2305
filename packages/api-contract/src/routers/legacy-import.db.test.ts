// Migration path: users imported with bcrypt hashes made by an independent tool (Apache htpasswd,
// fixture in packages/auth/test-fixtures) sign in once and are stored as Argon2id afterwards.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { callerFor, createCaller, createTestContext, signUpOwner } from '../testing/index.js';

const db = useTestDatabase();
const fixture = readFileSync(
  fileURLToPath(new URL('../../../auth/test-fixtures/legacy-bcrypt.txt', import.meta.url)),
  'utf8',
);
const hashes = Object.fromEntries(
  fixture
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':') as [string, string]),
);

test('an htpasswd bcrypt hash signs in once and is stored as Argon2id afterwards', async () => {
  const owner = await signUpOwner(db.app);
  const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
  const result = await asOwner.users.importLegacy({
    users: [
      {
        email: 'Legacy@Example.com',
        role: 'member',
        passwordHash: hashes['legacy@example.com'] ?? '',
      },
    ],
  });
  expect(result).toEqual({ imported: 1, skipped: [] });
  const anon = createCaller(createTestContext(db.app, { services: owner.services }));
  const creds = {
    tenantSlug: owner.tenant.slug,
    email: 'legacy@example.com',
    password: 'Legacy-bcrypt-passw0rd!',
  };
  await expect(
    anon.auth.signIn({ ...creds, password: 'Legacy-bcrypt-passw0rd?' }),
  ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  await expect(anon.auth.signIn(creds)).resolves.toMatchObject({ status: 'signed_in' });
  const { rows } = await db.owner.pool.query<{ password_algorithm: string; password_hash: string }>(
    "SELECT password_algorithm, password_hash FROM users WHERE email = 'legacy@example.com'",
  );
  expect(rows[0]?.password_algorithm).toBe('argon2id');
  expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$/);
  await expect(anon.auth.signIn(creds)).resolves.toMatchObject({ status: 'signed_in' });
  const audit = await db.owner.pool.query(
    "SELECT 1 FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.password.rehashed'",
    [owner.tenant.id],
  );
  expect(audit.rowCount).toBe(1);
});

test('an import with one malformed hash writes nothing; existing e-mails are skipped', async () => {
  const owner = await signUpOwner(db.app);
  const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
  await expect(
    asOwner.users.importLegacy({
      users: [
        {
          email: 'ok@example.com',
          role: 'member',
          passwordHash: hashes['legacy@example.com'] ?? '',
        },
        { email: 'bad@example.com', role: 'member', passwordHash: '$1$md5crypt' },
      ],
    }),
  ).rejects.toMatchObject({ code: 'BAD_REQUEST', cause: { field: 'users.1.passwordHash' } });
  const again = await asOwner.users.importLegacy({
    users: [
      { email: owner.user.email, role: 'member', passwordHash: hashes['legacy@example.com'] ?? '' },
    ],
  });
  expect(again).toEqual({ imported: 0, skipped: [{ email: owner.user.email, reason: 'exists' }] });
});

test('an imported bcrypt cost above 14 is refused for its row, naming the limit, and nothing is written', async () => {
  const owner = await signUpOwner(db.app);
  const asOwner = await callerFor(db.app, owner.token, { services: owner.services });
  const legacy = hashes['legacy@example.com'] ?? '';
  const costly = legacy.replace('$10$', '$24$'); // ~16,000 times the work of cost 10 per sign-in
  const refused = await asOwner.users
    .importLegacy({
      users: [
        { email: 'fine@example.com', role: 'member', passwordHash: legacy },
        { email: 'slow@example.com', role: 'member', passwordHash: costly },
      ],
    })
    .catch((e: unknown) => e);
  expect(refused).toMatchObject({
    code: 'BAD_REQUEST',
    cause: { code: 'invalid_input', field: 'users.1.passwordHash' },
  });
  expect((refused as Error).message).toMatch(/row 2.*cost 24.*14/);
  const { rowCount } = await db.owner.pool.query(
    "SELECT 1 FROM users WHERE tenant_id = $1 AND email IN ('fine@example.com', 'slow@example.com')",
    [owner.tenant.id],
  );
  expect(rowCount).toBe(0);
  // The limit itself is accepted.
  await expect(
    asOwner.users.importLegacy({
      users: [
        { email: 'edge@example.com', role: 'member', passwordHash: legacy.replace('$10$', '$14$') },
      ],
    }),
  ).resolves.toEqual({ imported: 1, skipped: [] });
});
