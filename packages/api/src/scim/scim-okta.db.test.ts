// Replays the requests Okta's SCIM 2.0 client sends (developer.okta.com, "SCIM 2.0 protocol
// reference" and its Runscope/Postman test suite) over real HTTP against the real server: find by
// userName, create, get, profile update by PUT, deactivate and reactivate by PATCH, group create,
// find, rename and membership PATCHes, group delete, then user delete. Every answer is checked
// against the RFC 7643/7644 shapes (testing/scim-client.ts). Deactivation must end the user's
// sessions on another API process within a second (docs/design.md "Tests and CI").
import { createSession } from '@tessera/auth/sessions';
import { DEFAULT_SECURITY_POLICY } from '@tessera/auth/tenants';
import { rememberDevice } from '@tessera/auth/mfa';
import { testServices } from '@tessera/api-contract/testing';
import { createDatabase, type Database } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  GROUP_URN,
  groupShape,
  PATCH_URN,
  scimList,
  scimOk,
  scimRequest,
  USER_URN,
  userShape,
} from '../testing/scim-client.js';
import { listeningServer, scimTenant, type ListeningServer } from '../testing/scim-server.js';

const db = useTestDatabase();
const services = testServices();
const BOUND_MS = 1_000;
const MARGIN_MS = 250;
let a: ListeningServer;
let b: ListeningServer;
let bDatabase: Database;

beforeAll(async () => {
  bDatabase = createDatabase(db.appUrl, { max: 3 });
  a = await listeningServer(db.app, services);
  b = await listeningServer(bDatabase, services); // a second API process with its own session cache
});
afterAll(async () => {
  await Promise.all([a.app.close(), b.app.close()]);
  await bDatabase.close();
});

const okta = (token: string) => (method: string, path: string, body?: unknown) =>
  scimRequest(a.origin, token, method, path, body, { 'user-agent': 'Okta SCIM Client 1.0.0' });

const newUser = (userName: string) => ({
  schemas: [USER_URN],
  userName,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId: '00ujl29u0le5T6Aj10h7',
  groups: [],
  password: '1mz050nq', // Okta sends one; it is never stored
  active: true,
});

async function me(session: string): Promise<number> {
  const response = await fetch(`${b.origin}/trpc/auth.me`, {
    headers: { cookie: `tessera_session=${session}` },
  });
  await response.arrayBuffer();
  return response.status;
}

async function refusedWithin(check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= BOUND_MS + MARGIN_MS) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`still accepted after ${BOUND_MS} ms + ${MARGIN_MS} ms`);
}

test("Okta's user lifecycle: create, get, update, deactivate (sessions end at once), reactivate, delete", async () => {
  const t = await scimTenant(db.app, services);
  const send = okta(t.token);
  const userName = 'test.user@okta.local';

  const none = scimList(
    await send(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`,
    ),
    userShape,
  );
  expect(none).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, items: [] });

  const createdAnswer = await send('POST', '/Users', newUser(userName));
  const created = scimOk(createdAnswer, 201, userShape);
  expect(createdAnswer.headers.get('location')).toBe(created.meta.location);
  expect(created).toMatchObject({
    userName,
    externalId: '00ujl29u0le5T6Aj10h7',
    active: true,
    displayName: 'Test User',
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ value: userName, primary: true }],
  });
  expect(JSON.stringify(created)).not.toContain('1mz050nq');

  const found = scimList(
    await send(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "TEST.USER@okta.local"`)}&startIndex=1&count=100`,
    ),
    userShape,
  );
  expect(found.totalResults).toBe(1);
  expect(found.items[0]?.id).toBe(created.id);
  expect(scimOk(await send('GET', `/Users/${created.id}`), 200, userShape)).toEqual(created);

  const updated = scimOk(
    await send('PUT', `/Users/${created.id}`, {
      ...newUser(userName),
      id: created.id,
      name: { givenName: 'Another', familyName: 'User' },
      displayName: 'Another User',
    }),
    200,
    userShape,
  );
  expect(updated).toMatchObject({ name: { givenName: 'Another' }, displayName: 'Another User' });

  // A session and a remembered device of the provisioned user, cached on server B.
  const { token: session } = await db.withTenant(t.tenantId, (tx) =>
    createSession(
      tx,
      DEFAULT_SECURITY_POLICY,
      { userId: created.id, aal: 1, ip: null, userAgent: null },
      new Date(),
    ),
  );
  await db.withTenant(t.tenantId, (tx) =>
    rememberDevice(
      tx,
      DEFAULT_SECURITY_POLICY,
      created.id,
      { ip: '203.0.113.9', userAgent: 'x' },
      new Date(),
    ),
  );
  expect(await me(session)).toBe(200);
  expect(await me(session)).toBe(200);

  const deactivated = scimOk(
    await send('PATCH', `/Users/${created.id}`, {
      schemas: [PATCH_URN],
      Operations: [{ op: 'replace', value: { active: false } }],
    }),
    200,
    userShape,
  );
  expect(deactivated.active).toBe(false);
  await refusedWithin(async () => (await me(session)) === 401);
  const { rows: state } = await db.owner.pool.query<{
    disabled: boolean;
    live_devices: number;
    live_sessions: number;
  }>(
    `SELECT u.disabled_at IS NOT NULL AS disabled,
       (SELECT count(*)::int FROM remembered_devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL) AS live_devices,
       (SELECT count(*)::int FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL) AS live_sessions
     FROM users u WHERE u.id = $1`,
    [created.id],
  );
  expect(state[0]).toEqual({ disabled: true, live_devices: 0, live_sessions: 0 });

  const reactivated = scimOk(
    await send('PATCH', `/Users/${created.id}`, {
      schemas: [PATCH_URN],
      Operations: [{ op: 'replace', value: { active: true } }],
    }),
    200,
    userShape,
  );
  expect(reactivated.active).toBe(true);
  const { rows: enabled } = await db.owner.pool.query(
    'SELECT disabled_at FROM users WHERE id = $1',
    [created.id],
  );
  expect(enabled[0]).toEqual({ disabled_at: null });

  expect((await send('DELETE', `/Users/${created.id}`)).status).toBe(204);
  expect((await send('GET', `/Users/${created.id}`)).status).toBe(404);
  const { rows: after } = await db.owner.pool.query(
    'SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1',
    [created.id],
  );
  expect(after).toEqual([{ disabled: true }]); // the tenant's default: disable, keep the account

  const { rows: audit } = await db.owner.pool.query<{ action: string; actor_id: string }>(
    `SELECT action, actor_id FROM audit_logs WHERE tenant_id = $1 AND target_id = $2 ORDER BY seq`,
    [t.tenantId, created.id],
  );
  expect(audit.map((r) => r.action)).toEqual(
    expect.arrayContaining([
      'scim.user.created',
      'scim.user.updated',
      'user.disabled',
      'mfa.device.revoked',
      'user.enabled',
      'scim.user.deleted',
    ]),
  );
  expect(audit.find((r) => r.action === 'user.disabled')?.actor_id).toBe(`scim_token:${t.tokenId}`);
});

test("Okta's group push: create, find, rename, add and remove a member, delete; mapped groups set roles", async () => {
  const t = await scimTenant(db.app, services);
  const send = okta(t.token);
  const user = scimOk(await send('POST', '/Users', newUser('member@okta.local')), 201, userShape);

  const group = scimOk(
    await send('POST', '/Groups', {
      schemas: [GROUP_URN],
      displayName: 'Test SCIMv2',
      members: [],
    }),
    201,
    groupShape,
  );
  expect(group).toMatchObject({ displayName: 'Test SCIMv2', members: [] });
  const listed = scimList(
    await send(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Test SCIMv2"')}&startIndex=1&count=100`,
    ),
    groupShape,
  );
  expect(listed.items.map((g) => g.id)).toEqual([group.id]);

  const patch = (operations: unknown[]) =>
    send('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_URN], Operations: operations });
  expect(
    (await patch([{ op: 'replace', value: { id: group.id, displayName: 'Admins' } }])).status,
  ).toBe(204);
  await t.owner.scim.setGroupRole({ groupId: group.id, role: 'admin' });

  expect(
    (
      await patch([
        { op: 'add', path: 'members', value: [{ value: user.id, display: 'member@okta.local' }] },
      ])
    ).status,
  ).toBe(204);
  const withMember = scimOk(await send('GET', `/Groups/${group.id}`), 200, groupShape);
  expect(withMember).toMatchObject({
    displayName: 'Admins',
    members: [{ value: user.id, display: 'member@okta.local' }],
  });
  expect(scimOk(await send('GET', `/Users/${user.id}`), 200, userShape).groups).toEqual([
    expect.objectContaining({ value: group.id, display: 'Admins' }),
  ]);
  const roleOf = async () =>
    (await db.owner.pool.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [user.id]))
      .rows[0]?.role;
  expect(await roleOf()).toBe('admin');

  expect((await patch([{ op: 'remove', path: `members[value eq "${user.id}"]` }])).status).toBe(
    204,
  );
  expect(scimOk(await send('GET', `/Groups/${group.id}`), 200, groupShape).members).toEqual([]);
  expect(await roleOf()).toBe('member');

  expect((await send('DELETE', `/Groups/${group.id}`)).status).toBe(204);
  expect((await send('GET', `/Groups/${group.id}`)).status).toBe(404);
});

test('a SCIM delete with the erase setting opens a GDPR erasure request for the user, audited', async () => {
  const t = await scimTenant(db.app, services);
  await t.owner.scim.updateSettings({ deleteAction: 'erase' });
  const send = okta(t.token);
  const user = scimOk(await send('POST', '/Users', newUser('leaver@okta.local')), 201, userShape);
  expect((await send('DELETE', `/Users/${user.id}`)).status).toBe(204);
  const { rows } = await db.owner.pool.query(
    `SELECT type, status, requested_by_type, requested_by FROM privacy_requests WHERE user_id = $1`,
    [user.id],
  );
  expect(rows).toEqual([
    {
      type: 'deletion',
      status: 'pending',
      requested_by_type: 'scim_token',
      requested_by: t.tokenId,
    },
  ]);
  const { rows: disabled } = await db.owner.pool.query(
    'SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE id = $1',
    [user.id],
  );
  expect(disabled).toEqual([{ disabled: true }]);
  const { rows: audit } = await db.owner.pool.query<{ after: unknown }>(
    `SELECT after FROM audit_logs WHERE tenant_id = $1 AND action = 'scim.user.deleted'`,
    [t.tenantId],
  );
  expect(audit[0]?.after).toMatchObject({ action: 'erase' });
});
