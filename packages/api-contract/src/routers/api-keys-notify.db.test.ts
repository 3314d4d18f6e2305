import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { callerFor, signUpOwner, outboxMails } from '../testing/index.js';

const db = useTestDatabase();

test('creating a key mails the creating user a security notification (prefix only, never the key)', async () => {
  const owner = await signUpOwner(db.app);
  const caller = await callerFor(db.app, owner.token, { services: owner.services });
  const { key, apiKey } = await caller.apiKeys.create({
    name: 'Notify me',
    type: 'publishable',
    environment: 'test',
    scopes: [],
  });
  const mails = await outboxMails(db.owner, owner.services.accounts.keyring, owner.tenant.id, {
    template: 'api_key_created',
  });
  expect(mails).toHaveLength(1);
  const body = mails[0]?.body ?? '';
  expect(body).toContain(apiKey.prefix);
  expect(body).not.toContain(key);
});
