// Attacks on /scim/v2 over real HTTP: a SCIM token of tenant A reading, changing, deleting or
// grouping tenant B's users and groups (RLS must make them 404, and B's rows must not change);
// a SCIM token presented to /trpc and /api/v1 (it is not an API key), an API key or a session
// cookie presented to /scim/v2 (only SCIM tokens work there), a revoked or malformed token, a
// malformed or unsupported filter, an oversized body, NUL bytes, and an owner adopted or changed
// through SCIM. Every refusal must be an RFC 7644 error, never a 5xx. docs/design.md rules 1, 3
// and 5; ASVS V4.2.1 (IDOR), V3.5 (token scope), V13.1 (API input).
import { createApiKey } from '@tessera/auth/api-keys';
import { testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
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
import {
  listeningServer,
  scimTenant,
  type ListeningServer,
  type ScimTenant,
} from '../testing/scim-server.js';
import { SCIM_BODY_LIMIT_BYTES } from './scim-caller.js';

const db = useTestDatabase();
const services = testServices();
let server: ListeningServer;
let a: ScimTenant;
let b: ScimTenant;
let victim: { userId: string; groupId: string };

const user = (userName: string) => ({
  schemas: [USER_URN],
  userName,
  emails: [{ primary: true, type: 'work', value: userName }],
  name: { givenName: 'Vic', familyName: 'Tim' },
  active: true,
});

beforeAll(async () => {
  server = await listeningServer(db.app, services);
  a = await scimTenant(db.app, services);
  b = await scimTenant(db.app, services);
  const created = scimOk(
    await scimRequest(server.origin, b.token, 'POST', '/Users', user('victim@b.test')),
    201,
    userShape,
  );
  const group = scimOk(
    await scimRequest(server.origin, b.token, 'POST', '/Groups', {
      schemas: [GROUP_URN],
      displayName: 'B staff',
      members: [{ value: created.id }],
    }),
    201,
    groupShape,
  );
  victim = { userId: created.id, groupId: group.id };
});
afterAll(async () => {
  await server.app.close();
});

const asA = (method: string, path: string, body?: unknown) =>
  scimRequest(server.origin, a.token, method, path, body);

async function victimState(): Promise<unknown> {
  const { rows } = await db.owner.pool.query(
    `SELECT u.email, u.display_name, u.role, u.disabled_at, s.user_name, s.external_id,
            (SELECT count(*)::int FROM scim_group_members m WHERE m.user_id = u.id) AS groups
       FROM users u JOIN scim_users s ON s.user_id = u.id WHERE u.id = $1`,
    [victim.userId],
  );
  return rows[0];
}

describe("tenant A's token against tenant B's resources", () => {
  test('reads, changes and deletes of B’s user answer 404 and change nothing', async () => {
    const before = await victimState();
    const patch = {
      schemas: [PATCH_URN],
      Operations: [{ op: 'replace', value: { active: false } }],
    };
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', user('taken@a.test')],
      ['PATCH', patch],
      ['DELETE', undefined],
    ] as const)
      scimErrorOf(await asA(method, `/Users/${victim.userId}`, body), 404);
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { schemas: [GROUP_URN], displayName: 'pwned', members: [] }],
      ['PATCH', { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: 'members' }] }],
      ['DELETE', undefined],
    ] as const)
      scimErrorOf(await asA(method, `/Groups/${victim.groupId}`, body), 404);
    expect(await victimState()).toEqual(before);
  });

  test("lists and filters never show B's users or groups", async () => {
    const byName = scimList(
      await asA('GET', `/Users?filter=${encodeURIComponent('userName eq "victim@b.test"')}`),
      userShape,
    );
    expect(byName.totalResults).toBe(0);
    const all = scimList(await asA('GET', '/Users'), userShape);
    expect(all.items.map((u) => u.id)).not.toContain(victim.userId);
    const groups = scimList(await asA('GET', '/Groups'), groupShape);
    expect(groups.items.map((g) => g.id)).not.toContain(victim.groupId);
  });

  test("B's user cannot be put into A's group, nor adopted by address", async () => {
    const error = scimErrorOf(
      await asA('POST', '/Groups', {
        schemas: [GROUP_URN],
        displayName: 'A admins',
        members: [{ value: victim.userId }],
      }),
      400,
    );
    expect(error.scimType).toBe('invalidValue');
    // Same address in A: a new, separate user of A; B's is untouched.
    const before = await victimState();
    const twin = scimOk(await asA('POST', '/Users', user('victim@b.test')), 201, userShape);
    expect(twin.id).not.toBe(victim.userId);
    expect(await victimState()).toEqual(before);
  });
});

describe('token scope', () => {
  test('a SCIM token is not accepted on /trpc or /api/v1', async () => {
    const trpc = await fetch(`${server.origin}/trpc/users.list`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(trpc.status).toBe(401);
    const rest = await fetch(`${server.origin}/api/v1/users`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    expect(rest.status).toBe(401);
    const mint = await fetch(`${server.origin}/trpc/scim.createToken`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'escalate' }),
    });
    expect(mint.status).toBe(401);
  });

  test('an API key holding every scope, or a session cookie, is not accepted on /scim/v2', async () => {
    const { key } = await db.withTenant(a.tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: { type: 'user', id: a.ownerId }, deps: services.apiKeys, now: new Date() },
        {
          name: 'all',
          type: 'secret',
          environment: 'live',
          scopes: ['users:read', 'users:write', 'api_keys:read', 'api_keys:write'],
        },
      ),
    );
    const withKey = await scimRequest(server.origin, key, 'GET', '/Users');
    expect(scimErrorOf(withKey, 401)).toBeDefined();
    expect(withKey.headers.get('www-authenticate')).toMatch(/^Bearer/);
    scimErrorOf(
      await scimRequest(server.origin, null, 'GET', '/Users', undefined, {
        cookie: `tessera_session=${a.session}`,
      }),
      401,
    );
    scimErrorOf(await scimRequest(server.origin, null, 'GET', '/ServiceProviderConfig'), 401);
  });

  test('a revoked token stops working at once; malformed and unknown tokens are refused alike', async () => {
    const fresh = await a.owner.scim.createToken({ name: 'to revoke' });
    scimList(await scimRequest(server.origin, fresh.token, 'GET', '/Users'), userShape);
    await a.owner.scim.revokeToken({ id: fresh.scimToken.id });
    scimErrorOf(await scimRequest(server.origin, fresh.token, 'GET', '/Users'), 401);
    for (const token of ['scim_short', `scim_${'A'.repeat(43)}`, `${a.token}x`, 'Basic abc'])
      scimErrorOf(await scimRequest(server.origin, token, 'GET', '/Users'), 401);
    const listed = await a.owner.scim.listTokens();
    expect(listed.find((t) => t.id === fresh.scimToken.id)?.revokedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(fresh.token);
    const { rows } = await db.owner.pool.query(
      `SELECT action FROM audit_logs WHERE tenant_id = $1 AND target_id = $2 ORDER BY seq`,
      [a.tenantId, fresh.scimToken.id],
    );
    expect(rows.map((r: { action: string }) => r.action)).toEqual([
      'scim.token.created',
      'scim.token.revoked',
    ]);
  });
});

describe('hostile input', () => {
  test('malformed and unsupported filters are 400 invalidFilter', async () => {
    for (const filter of [
      'userName eq',
      'userName eq "a" or userName eq "b"',
      'name.givenName sw "V"',
      'emails[type eq "work"]',
      'userName ne "x"',
      'active eq true',
      ')(',
    ]) {
      const error = scimErrorOf(
        await asA('GET', `/Users?filter=${encodeURIComponent(filter)}`),
        400,
      );
      expect(error.scimType, filter).toBe('invalidFilter');
    }
    expect(
      scimErrorOf(await asA('GET', `/Groups?filter=${encodeURIComponent('members eq "x"')}`), 400)
        .scimType,
    ).toBe('invalidFilter');
  });

  test('an oversized body is 413, invalid JSON and NUL bytes are 400, never a 5xx', async () => {
    const huge = JSON.stringify({
      ...user('big@a.test'),
      padding: 'x'.repeat(SCIM_BODY_LIMIT_BYTES),
    });
    scimErrorOf(await asA('POST', '/Users', huge), 413);
    expect(scimErrorOf(await asA('POST', '/Users', '{"schemas": ['), 400).scimType).toBe(
      'invalidSyntax',
    );
    expect(scimErrorOf(await asA('POST', '/Users', user('nul\u0000@a.test')), 400).scimType).toBe(
      'invalidValue',
    );
    expect(
      scimErrorOf(await asA('POST', '/Users', { userName: 'no-schema@a.test' }), 400).scimType,
    ).toBe('invalidSyntax');
    scimErrorOf(await asA('GET', '/Users/not-a-uuid'), 404);
    scimErrorOf(await asA('GET', '/Users?startIndex=abc'), 400);
    const tooMany = {
      schemas: [PATCH_URN],
      Operations: Array.from({ length: 101 }, () => ({ op: 'replace', value: { active: true } })),
    };
    const someone = scimOk(await asA('POST', '/Users', user('ops@a.test')), 201, userShape);
    expect(scimErrorOf(await asA('PATCH', `/Users/${someone.id}`, tooMany), 400).scimType).toBe(
      'tooMany',
    );
  });

  test("the tenant's owner cannot be adopted, changed or deleted through SCIM", async () => {
    const error = scimErrorOf(await asA('POST', '/Users', user(a.ownerEmail)), 409);
    expect(error.scimType).toBe('uniqueness');
    scimErrorOf(await asA('GET', `/Users/${a.ownerId}`), 404); // not a SCIM resource
    scimErrorOf(await asA('DELETE', `/Users/${a.ownerId}`), 404);
    const { rows } = await db.owner.pool.query(
      'SELECT role, disabled_at FROM users WHERE id = $1',
      [a.ownerId],
    );
    expect(rows).toEqual([{ role: 'owner', disabled_at: null }]);
  });
});
