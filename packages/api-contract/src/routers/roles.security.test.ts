// Attacks on custom roles: a member with a custom role grants themselves (or an accomplice) a
// permission they lack, by creating or editing a role, assigning one, inviting with one or minting
// an API key; edits built-in roles; acts on members above them; keeps a deleted role's rights; or
// changes roles from a stolen session without step-up. The escalation rule (docs/roles.md),
// docs/design.md "Identity" (step-up) and rule 6 (audit in the same transaction); ASVS V4.1.3,
// V4.2 (least privilege, no privilege escalation).
import { randomUUID } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { describe, expect, test } from 'vitest';
import type { SessionPrincipal } from '../context.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  principalOf,
  seedMember,
  signUpOwner,
  type Caller,
} from '../testing/index.js';

const db = useTestDatabase();
const forbidden = { code: 'FORBIDDEN', cause: { code: 'forbidden' } };
const stepUpRequired = { code: 'PRECONDITION_FAILED', cause: { code: 'step_up_required' } };

const as = (principal: SessionPrincipal, now = new Date()): Caller =>
  createCaller(createTestContext(db.app, { principal, now: () => now }));

async function tenantWithOwner() {
  const owner = await signUpOwner(db.app);
  const principal = await principalFromToken(db.app, owner.token);
  if (principal?.kind !== 'session') throw new Error('no owner session');
  return { tenantId: owner.tenant.id, ownerId: owner.user.id, owner: as(principal) };
}

/** A tenant, a custom role with `permissions`, and a signed-in member holding it. */
async function memberWithRole(
  permissions: Parameters<Caller['roles']['create']>[0]['permissions'],
) {
  const t = await tenantWithOwner();
  const { id: roleId } = await t.owner.roles.create({ name: `role-${randomUUID()}`, permissions });
  const member = await seedMember(db.app, t.tenantId, 'member', roleId);
  const principal = await principalOf(db.app, member);
  return { ...t, roleId, member, principal, caller: as(principal) };
}

async function auditRows(tenantId: string, action: string) {
  const { rows } = await db.owner.pool.query<{
    target_id: string;
    before: unknown;
    after: unknown;
  }>(
    'SELECT target_id, before, after FROM audit_logs WHERE tenant_id = $1 AND action = $2 ORDER BY seq',
    [tenantId, action],
  );
  return rows;
}

async function roleRow(roleId: string) {
  const { rows } = await db.owner.pool.query<{ name: string; permissions: string[] }>(
    'SELECT name, permissions FROM tenant_roles WHERE id = $1',
    [roleId],
  );
  return rows[0] ?? null;
}

describe('managing roles', () => {
  test('a resolved session carries its custom role, and auth.me lists what it may do', async () => {
    const { principal, caller, roleId } = await memberWithRole(['audit:read', 'users:read']);
    expect(principal.role).toBe('member');
    expect(principal.customRole).toEqual({ id: roleId, permissions: ['users:read', 'audit:read'] });
    const me = await caller.auth.me();
    expect(me.permissions).toEqual(['users:read', 'audit:read']);
    expect(me.customRoleId).toBe(roleId);
  });

  test('create, edit and delete are audited with before and after', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const { id } = await owner.roles.create({
      name: 'Billing viewer',
      description: 'Reads members',
      permissions: ['users:read'],
    });
    await owner.roles.update({
      id,
      name: 'Support agent',
      permissions: ['users:read', 'audit:read'],
    });
    await owner.roles.delete({ id });
    expect(await auditRows(tenantId, 'role.created')).toEqual([
      {
        target_id: id,
        before: null,
        after: {
          name: 'Billing viewer',
          description: 'Reads members',
          permissions: ['users:read'],
        },
      },
    ]);
    expect(await auditRows(tenantId, 'role.updated')).toEqual([
      {
        target_id: id,
        before: {
          name: 'Billing viewer',
          description: 'Reads members',
          permissions: ['users:read'],
        },
        after: {
          name: 'Support agent',
          description: 'Reads members',
          permissions: ['users:read', 'audit:read'],
        },
      },
    ]);
    expect(await auditRows(tenantId, 'role.deleted')).toEqual([
      {
        target_id: id,
        before: {
          name: 'Support agent',
          description: 'Reads members',
          permissions: ['users:read', 'audit:read'],
        },
        after: { members: 0, membersNowRole: 'member' },
      },
    ]);
  });

  test('built-in roles are listed with their permission sets and cannot be edited, deleted or shadowed', async () => {
    const { owner } = await tenantWithOwner();
    const { roles, permissions } = await owner.roles.list();
    const builtIn = roles.filter((r) => r.builtIn);
    expect(builtIn.map((r) => [r.name, r.id])).toEqual([
      ['owner', null],
      ['admin', null],
      ['compliance', null],
      ['member', null],
    ]);
    expect(builtIn.find((r) => r.name === 'member')?.permissions).toEqual([]);
    expect(permissions.length).toBeGreaterThan(20);
    // No id names a built-in role, so no input can reach one.
    await expect(owner.roles.update({ id: 'admin', permissions: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(owner.roles.delete({ id: 'owner' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(owner.roles.create({ name: 'Admin', permissions: [] })).rejects.toMatchObject({
      cause: { code: 'conflict' },
    });
  });
});

describe('escalation', () => {
  test('nobody creates a role with a permission they do not hold; the owner may grant any', async () => {
    const { caller, tenantId } = await memberWithRole(['roles:read', 'roles:write', 'users:read']);
    await expect(
      caller.roles.create({ name: 'wider', permissions: ['users:read', 'audit:read'] }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      caller.roles.create({ name: 'narrower', permissions: ['users:read'] }),
    ).resolves.toHaveProperty('id');
    // An admin lacks the privacy officer's compliance:write; the owner grants it.
    const admin = as(await principalOf(db.app, await seedMember(db.app, tenantId, 'admin')));
    await expect(
      admin.roles.create({ name: 'officer', permissions: ['compliance:write'] }),
    ).rejects.toMatchObject(forbidden);
    const { rows } = await db.owner.pool.query<{ name: string }>(
      'SELECT name FROM tenant_roles WHERE tenant_id = $1 ORDER BY name',
      [tenantId],
    );
    expect(rows.map((r) => r.name)).not.toContain('wider');
    expect(rows.map((r) => r.name)).not.toContain('officer');
  });

  test('a member cannot edit their own role upwards, nor edit or delete a role wider than theirs', async () => {
    const { caller, roleId, owner } = await memberWithRole(['roles:read', 'roles:write']);
    await expect(
      caller.roles.update({
        id: roleId,
        permissions: ['roles:read', 'roles:write', 'users:write'],
      }),
    ).rejects.toMatchObject(forbidden);
    expect((await roleRow(roleId))?.permissions).toEqual(['roles:read', 'roles:write']);
    const { id: wider } = await owner.roles.create({ name: 'wider', permissions: ['audit:read'] });
    await expect(caller.roles.update({ id: wider, permissions: [] })).rejects.toMatchObject(
      forbidden,
    );
    await expect(caller.roles.delete({ id: wider })).rejects.toMatchObject(forbidden);
    expect((await roleRow(wider))?.permissions).toEqual(['audit:read']);
  });

  test('nobody assigns or invites with a role carrying a permission they lack, built-in or custom', async () => {
    const { caller, owner, tenantId } = await memberWithRole(['users:read', 'users:write']);
    const { id: auditor } = await owner.roles.create({
      name: 'auditor',
      permissions: ['audit:read'],
    });
    const { id: reader } = await owner.roles.create({
      name: 'reader',
      permissions: ['users:read'],
    });
    const target = await seedMember(db.app, tenantId, 'member');
    await expect(
      caller.users.setRole({ userId: target.userId, role: 'member', customRoleId: auditor }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      caller.users.setRole({ userId: target.userId, role: 'admin' }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      caller.users.invite({ email: 'x@example.com', role: 'member', customRoleId: auditor }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      caller.users.invite({ email: 'y@example.com', role: 'compliance' }),
    ).rejects.toMatchObject(forbidden);
    // Within what they hold, they may.
    await caller.users.setRole({ userId: target.userId, role: 'member', customRoleId: reader });
    const { rows } = await db.owner.pool.query<{ custom_role_id: string | null; role: string }>(
      'SELECT role, custom_role_id FROM users WHERE id = $1',
      [target.userId],
    );
    expect(rows[0]).toEqual({ role: 'member', custom_role_id: reader });
    const invited = await caller.users.invite({
      email: 'z@example.com',
      role: 'member',
      customRoleId: reader,
    });
    const { rows: inv } = await db.owner.pool.query<{ custom_role_id: string | null }>(
      'SELECT custom_role_id FROM users WHERE id = $1',
      [invited.userId],
    );
    expect(inv[0]?.custom_role_id).toBe(reader);
  });

  test('a custom role acts only on members whose permissions it holds', async () => {
    const { caller, tenantId } = await memberWithRole(['users:read', 'users:write']);
    const admin = await seedMember(db.app, tenantId, 'admin');
    await expect(caller.users.disable({ userId: admin.userId })).rejects.toMatchObject(forbidden);
    await expect(caller.users.resetMfa({ userId: admin.userId })).rejects.toMatchObject(forbidden);
    await expect(
      caller.users.setRole({ userId: admin.userId, role: 'member' }),
    ).rejects.toMatchObject(forbidden);
    const plain = await seedMember(db.app, tenantId, 'member');
    await expect(caller.users.disable({ userId: plain.userId })).resolves.toEqual({ ok: true });
  });

  test('a custom role cannot mint an API key with scopes it does not hold', async () => {
    const { caller } = await memberWithRole(['api_keys:write', 'users:read']);
    const spec = { name: 'k', type: 'secret', environment: 'live' } as const;
    await expect(
      caller.apiKeys.create({ ...spec, scopes: ['users:read', 'users:write'] }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      caller.apiKeys.create({ ...spec, scopes: ['users:read'] }),
    ).resolves.toHaveProperty('key');
  });

  test('identity control stays with owner and admin: no custom role carries SSO, SAML, domain or SCIM write, and a row that does is not honoured', async () => {
    const t = await tenantWithOwner();
    for (const permission of [
      'scim:write',
      'saml:write',
      'saml:manage',
      'sso:write',
      'domains:write',
    ] as const)
      await expect(
        t.owner.roles.create({ name: `idp-${permission}`, permissions: ['scim:read', permission] }),
      ).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        cause: { code: 'invalid_input', field: 'permissions' },
      });
    // A role row written before the rule (or by hand) that carries them anyway.
    const { rows: roles } = await db.owner.pool.query<{ id: string }>(
      `INSERT INTO tenant_roles (tenant_id, name, permissions)
       VALUES ($1, 'directory operator', ARRAY['scim:read', 'scim:write', 'saml:read', 'saml:write', 'saml:manage', 'sso:write', 'domains:write'])
       RETURNING id`,
      [t.tenantId],
    );
    const roleId = roles[0]?.id ?? '';
    const caller = as(
      await principalOf(db.app, await seedMember(db.app, t.tenantId, 'member', roleId)),
    );
    // With scim:write a token could adopt any non-owner account and map a group to admin.
    await expect(caller.scim.createToken({ name: 'mine' })).rejects.toMatchObject(forbidden);
    const { rows: groups } = await db.owner.pool.query<{ id: string }>(
      `INSERT INTO scim_groups (tenant_id, display_name, created_at, updated_at) VALUES ($1, 'Staff', now(), now()) RETURNING id`,
      [t.tenantId],
    );
    const groupId = groups[0]?.id ?? '';
    await expect(caller.scim.setGroupRole({ groupId, role: 'admin' })).rejects.toMatchObject(
      forbidden,
    );
    const { rows: connections } = await db.owner.pool.query<{ id: string }>(
      `INSERT INTO saml_connections (tenant_id, name, idp_entity_id) VALUES ($1, 'idp', 'https://idp.example.com/saml') RETURNING id`,
      [t.tenantId],
    );
    const id = connections[0]?.id ?? '';
    await expect(
      caller.tenant.saml.update({ id, groupRoles: [{ group: 'Staff', role: 'compliance' }] }),
    ).rejects.toMatchObject(forbidden);
    const { rows: after } = await db.owner.pool.query<{
      role: string | null;
      rules: unknown;
      tokens: number;
    }>(
      `SELECT (SELECT role FROM scim_groups WHERE id = $1) AS role,
              (SELECT group_roles FROM saml_connections WHERE id = $2) AS rules,
              (SELECT count(*)::int FROM scim_tokens WHERE tenant_id = $3) AS tokens`,
      [groupId, id, t.tenantId],
    );
    expect(after[0]).toEqual({ role: null, rules: [], tokens: 0 });
    // What the role may hold still works.
    await expect(caller.scim.listTokens()).resolves.toBeDefined();
  });

  test('a role of another tenant cannot be assigned, edited or deleted: it is not found', async () => {
    const a = await memberWithRole(['users:read']);
    const b = await tenantWithOwner();
    const target = await seedMember(db.app, b.tenantId, 'member');
    const notFound = { code: 'NOT_FOUND', cause: { code: 'not_found' } };
    await expect(
      b.owner.users.setRole({ userId: target.userId, role: 'member', customRoleId: a.roleId }),
    ).rejects.toMatchObject(notFound);
    await expect(b.owner.roles.update({ id: a.roleId, permissions: [] })).rejects.toMatchObject(
      notFound,
    );
    await expect(b.owner.roles.delete({ id: a.roleId })).rejects.toMatchObject(notFound);
    expect((await roleRow(a.roleId))?.permissions).toEqual(['users:read']);
  });
});

describe('step-up', () => {
  test('creating, editing, deleting and assigning custom roles need a recent second factor', async () => {
    const { tenantId, owner } = await tenantWithOwner();
    const { id } = await owner.roles.create({ name: 'r', permissions: ['users:read'] });
    const adminMember = await seedMember(db.app, tenantId, 'admin');
    const base = await principalOf(db.app, adminMember);
    const now = new Date();
    const stale: SessionPrincipal = {
      ...base,
      mfaEnabled: true,
      mfaVerifiedAt: new Date(now.getTime() - 11 * 60_000),
    };
    const target = await seedMember(db.app, tenantId, 'member');
    const c = as(stale, now);
    await expect(c.roles.create({ name: 'x', permissions: [] })).rejects.toMatchObject(
      stepUpRequired,
    );
    await expect(c.roles.update({ id, permissions: [] })).rejects.toMatchObject(stepUpRequired);
    await expect(c.roles.delete({ id })).rejects.toMatchObject(stepUpRequired);
    await expect(
      c.users.setRole({ userId: target.userId, role: 'member', customRoleId: id }),
    ).rejects.toMatchObject(stepUpRequired);
    await expect(
      c.users.invite({ email: 'n@example.com', role: 'member', customRoleId: id }),
    ).rejects.toMatchObject(stepUpRequired);
    expect((await roleRow(id))?.permissions).toEqual(['users:read']);
    const fresh = as({ ...stale, mfaVerifiedAt: new Date(now.getTime() - 60_000) }, now);
    await expect(fresh.roles.update({ id, permissions: [] })).resolves.toEqual({ ok: true });
  });
});

describe('deleted and edited roles at the next request', () => {
  test("a deleted role's members keep plain member rights and nothing more", async () => {
    const { member, caller, owner, roleId } = await memberWithRole(['audit:read']);
    await expect(caller.audit.verify()).resolves.toHaveProperty('valid', true);
    await owner.roles.delete({ id: roleId });
    const next = await principalOf(db.app, member);
    expect(next.role).toBe('member');
    expect(next.customRole).toBeUndefined();
    await expect(as(next).audit.verify()).rejects.toMatchObject(forbidden);
    await expect(as(next).sessions.list()).resolves.toHaveLength(1); // still signed in, as a member
  });

  test('an edit applies at the next request of a member who is already signed in', async () => {
    const { member, caller, owner, roleId } = await memberWithRole(['audit:read']);
    await expect(caller.audit.verify()).resolves.toHaveProperty('valid', true);
    await owner.roles.update({ id: roleId, permissions: ['users:read'] });
    const next = as(await principalOf(db.app, member));
    await expect(next.audit.verify()).rejects.toMatchObject(forbidden);
    await expect(next.users.list()).resolves.toHaveProperty('items');
  });
});
