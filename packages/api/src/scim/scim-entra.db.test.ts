// Replays the requests Microsoft Entra ID's provisioning service sends to a SCIM endpoint
// (learn.microsoft.com, "Tutorial: Develop and plan provisioning for a SCIM endpoint", request
// and response examples, and its known deviations: "Replace" in any case, booleans as the strings
// "True"/"False", `emails[type eq "work"].value` paths, `Remove` of members with a value list,
// `excludedAttributes=members`) over real HTTP against the real server, and checks every answer
// against the RFC 7643/7644 shapes (testing/scim-client.ts).
import { testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import {
  GROUP_URN,
  groupShape,
  PATCH_URN,
  scimErrorOf,
  scimList,
  scimOk,
  scimRequest,
  USER_URN,
  userShape,
} from '../testing/scim-client.js';
import { listeningServer, scimTenant, type ListeningServer } from '../testing/scim-server.js';

const db = useTestDatabase();
const services = testServices();
const anything = z.record(z.string(), z.unknown());
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
let server: ListeningServer;

beforeAll(async () => {
  server = await listeningServer(db.app, services);
});
afterAll(async () => {
  await server.app.close();
});

const entra = (token: string) => (method: string, path: string, body?: unknown) =>
  scimRequest(server.origin, token, method, path, body, {
    'user-agent': 'Azure Active Directory SCIM Client',
  });
const filter = (expression: string) => `filter=${encodeURIComponent(expression)}`;
const patchOp = (...operations: unknown[]) => ({ schemas: [PATCH_URN], Operations: operations });

test("Entra ID's user lifecycle: match, create, conflict, update, disable with 'False', enable, rename, delete", async () => {
  const t = await scimTenant(db.app, services);
  const send = entra(t.token);
  const userName = 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1';
  const body = {
    schemas: [USER_URN, ENTERPRISE],
    externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b@testuser.com' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    [ENTERPRISE]: { department: 'Engineering' },
  };

  expect(
    scimList(await send('GET', `/Users?${filter(`userName eq "${userName}"`)}`), userShape),
  ).toMatchObject({ totalResults: 0 });
  const created = scimOk(await send('POST', '/Users', body), 201, userShape);
  expect(created).toMatchObject({
    userName,
    externalId: body.externalId,
    active: true,
    displayName: 'givenName familyName',
    emails: [{ value: 'test_user_fd0ea19b@testuser.com', primary: true }],
  });
  // Entra ID matches on externalId too, and expects 409 uniqueness for a duplicate create.
  const byExternalId = scimList(
    await send('GET', `/Users?${filter(`externalId eq "${body.externalId}"`)}`),
    userShape,
  );
  expect(byExternalId.items.map((u) => u.id)).toEqual([created.id]);
  expect(scimErrorOf(await send('POST', '/Users', body), 409).scimType).toBe('uniqueness');
  expect(scimOk(await send('GET', `/Users/${created.id}`), 200, userShape).id).toBe(created.id);

  const updated = scimOk(
    await send(
      'PATCH',
      `/Users/${created.id}`,
      patchOp(
        {
          op: 'Replace',
          path: 'emails[type eq "work"].value',
          value: 'updatedEmail@microsoft.com',
        },
        { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
      ),
    ),
    200,
    userShape,
  );
  expect(updated).toMatchObject({
    emails: [{ value: 'updatedemail@microsoft.com' }],
    name: { familyName: 'updatedFamilyName', givenName: 'givenName' },
  });

  const disabled = scimOk(
    await send(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'Replace', path: 'active', value: 'False' }),
    ),
    200,
    userShape,
  );
  expect(disabled.active).toBe(false);
  const stateOf = async () =>
    (
      await db.owner.pool.query<{ disabled: boolean; email: string }>(
        'SELECT disabled_at IS NOT NULL AS disabled, email FROM users WHERE id = $1',
        [created.id],
      )
    ).rows[0];
  expect(await stateOf()).toEqual({ disabled: true, email: 'updatedemail@microsoft.com' });
  const enabled = scimOk(
    await send(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'Replace', path: 'active', value: 'True' }),
    ),
    200,
    userShape,
  );
  expect(enabled.active).toBe(true);
  expect((await stateOf())?.disabled).toBe(false);

  const renamedTo = '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com';
  const renamed = scimOk(
    await send(
      'PATCH',
      `/Users/${created.id}`,
      patchOp({ op: 'Replace', path: 'userName', value: renamedTo }),
    ),
    200,
    userShape,
  );
  expect(renamed.userName).toBe(renamedTo);
  expect(
    scimList(await send('GET', `/Users?${filter(`userName eq "${renamedTo}"`)}`), userShape)
      .totalResults,
  ).toBe(1);
  expect(
    scimList(await send('GET', `/Users?${filter(`userName eq "${userName}"`)}`), userShape)
      .totalResults,
  ).toBe(0);

  expect((await send('DELETE', `/Users/${created.id}`)).status).toBe(204);
  scimErrorOf(await send('GET', `/Users/${created.id}`), 404);
  scimErrorOf(await send('DELETE', `/Users/${created.id}`), 404);
});

test("Entra ID's group lifecycle: create, find without members, add and remove members, rename, delete", async () => {
  const t = await scimTenant(db.app, services);
  const send = entra(t.token);
  const user = scimOk(
    await send('POST', '/Users', {
      schemas: [USER_URN],
      userName: 'grace@contoso.test',
      emails: [{ primary: true, type: 'work', value: 'grace@contoso.test' }],
      active: true,
    }),
    201,
    userShape,
  );
  const group = scimOk(
    await send('POST', '/Groups', {
      schemas: [
        GROUP_URN,
        'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
      ],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'displayName',
      meta: { resourceType: 'Group' },
    }),
    201,
    groupShape,
  );
  const found = scimList(
    await send(
      'GET',
      `/Groups?excludedAttributes=members&${filter('displayName eq "displayName"')}`,
    ),
    groupShape,
  );
  expect(found.items).toEqual([
    expect.objectContaining({ id: group.id, externalId: group.externalId }),
  ]);
  expect(found.items[0]).not.toHaveProperty('members');
  expect(
    scimOk(await send('GET', `/Groups/${group.id}?excludedAttributes=members`), 200, groupShape),
  ).not.toHaveProperty('members');

  const patch = (...operations: unknown[]) =>
    send('PATCH', `/Groups/${group.id}`, patchOp(...operations));
  expect(
    (await patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: user.id }] })).status,
  ).toBe(204);
  expect(
    scimOk(await send('GET', `/Groups/${group.id}`), 200, groupShape).members?.map((m) => m.value),
  ).toEqual([user.id]);
  expect(
    (await patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: user.id }] }))
      .status,
  ).toBe(204);
  expect(scimOk(await send('GET', `/Groups/${group.id}`), 200, groupShape).members).toEqual([]);

  const newName = '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName';
  expect((await patch({ op: 'Replace', path: 'displayName', value: newName })).status).toBe(204);
  expect(scimOk(await send('GET', `/Groups/${group.id}`), 200, groupShape).displayName).toBe(
    newName,
  );

  expect((await send('DELETE', `/Groups/${group.id}`)).status).toBe(204);
  scimErrorOf(await send('GET', `/Groups/${group.id}`), 404);
});

test('discovery: ServiceProviderConfig, ResourceTypes and Schemas describe what is served', async () => {
  const t = await scimTenant(db.app, services);
  const send = entra(t.token);
  const config = scimOk(await send('GET', '/ServiceProviderConfig'), 200, anything);
  expect(config).toMatchObject({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false },
    filter: { supported: true, maxResults: 100 },
    authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
  });
  const types = scimList(await send('GET', '/ResourceTypes'), anything);
  expect(types.items.map((r) => [r['id'], r['endpoint'], r['schema']])).toEqual([
    ['User', '/Users', USER_URN],
    ['Group', '/Groups', GROUP_URN],
  ]);
  const schemas = scimList(await send('GET', '/Schemas'), anything);
  expect(schemas.items.map((s) => s['id'])).toEqual([USER_URN, GROUP_URN]);
  expect(scimOk(await send('GET', `/Schemas/${USER_URN}`), 200, anything)['name']).toBe('User');
  scimErrorOf(await send('GET', '/Schemas/urn:nope'), 404);
});
