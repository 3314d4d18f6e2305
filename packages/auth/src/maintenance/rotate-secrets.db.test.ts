import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { enqueueEmail } from '../outbox/enqueue-email.js';
import { reencryptAllSecrets } from './rotate-secrets.js';

const db = useTestDatabase();

test('rotation moves every ciphertext to the newest key; old rows kept working until then', async () => {
  const v1 = generateKeyringSpec(1);
  const oldRing = parseKeyring(v1);
  const tenant = await db.seedTenant();
  const id = await db.withTenant(tenant.id, (tx) =>
    enqueueEmail(
      tx,
      oldRing,
      { userId: null, address: 'a@example.com' },
      { name: 'password_changed', tenantName: 'T' },
      new Date(),
    ),
  );
  const newRing = parseKeyring(`${generateKeyringSpec(2)},${v1}`);
  const before = await db.owner.pool.query<{ body: string }>(
    'SELECT body FROM email_outbox WHERE id = $1',
    [id],
  );
  expect(before.rows[0]?.body.startsWith('v1.')).toBe(true);
  expect(
    newRing.decryptString(before.rows[0]?.body ?? '', {
      purpose: 'email_outbox.body',
      tenantId: tenant.id,
      rowId: id,
    }),
  ).toContain('password');
  expect(await reencryptAllSecrets(db.app, newRing)).toEqual({ checked: 1, reencrypted: 1 });
  const after = await db.owner.pool.query<{ body: string }>(
    'SELECT body FROM email_outbox WHERE id = $1',
    [id],
  );
  expect(after.rows[0]?.body.startsWith('v2.')).toBe(true);
  expect(await reencryptAllSecrets(db.app, newRing)).toEqual({ checked: 1, reencrypted: 0 });
});
