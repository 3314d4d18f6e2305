import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { callerFor, signUpOwner } from '../testing/index.js';

const db = useTestDatabase();

test('creating a key mails the creating user a security notification (prefix only, never the key)', async () => {
  const owner = await signUpOwner(db.app);
  const caller = await callerFor(db.app, owner.token, { services: owner.services });
  const { key, apiKey } = await caller.apiKeys.create({ name: 'Notify me', type: 'publishable', environment: 'test', scopes: [] });
  const { rows } = await db.owner.pool.query<{ id: string; body: string; template: string }>("SELECT id, body, template FROM email_outbox WHERE tenant_id = $1 AND template = 'api_key_created'", [owner.tenant.id]);
  expect(rows).toHaveLength(1);
  const body = owner.services.accounts.keyring.decryptString(rows[0]?.body ?? '', { purpose: 'email_outbox.body', tenantId: owner.tenant.id, rowId: rows[0]?.id ?? '' });
  expect(body).toContain(apiKey.prefix);
  expect(body).not.toContain(key);
});
