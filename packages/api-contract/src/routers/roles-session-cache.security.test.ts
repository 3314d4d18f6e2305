// Attack: a member keeps a custom role's rights after the role was narrowed, deleted or taken
// from them, because an API process still serves their session from its in-process cache. Each
// change must reach the cache within its one-second bound (migrations/0034 triggers on
// tessera_sessions, as 0024 for role changes). docs/roles.md; docs/design.md "Decisions" (changes
// apply at the next request); ASVS V4.1.3.
import { SessionCache } from '@tessera/auth/sessions';
import { useTestDatabase } from '@tessera/db/testing';
import { createDatabase } from '@tessera/db';
import { afterAll, expect, test } from 'vitest';
import { sessionPrincipal } from '../principal.js';
import { holds } from '../trpc.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  seedMember,
  signUpOwner,
  type SeededMember,
} from '../testing/index.js';

const db = useTestDatabase();
const BOUND_MS = 1_000;
const MARGIN_MS = 250;
let cache: SessionCache | undefined;

afterAll(async () => {
  await cache?.close();
});

/** A second API process: its own pool and cache, listening for changes. */
async function processCache(): Promise<SessionCache> {
  if (!cache) {
    const own = createDatabase(db.appUrl, { max: 3 });
    cache = new SessionCache(own.pool, { heartbeatMs: 500 });
    await cache.start();
    const close = cache.close.bind(cache);
    cache.close = async () => {
      await close();
      await own.close();
    };
  }
  return cache;
}

async function permissionsSeen(member: SeededMember): Promise<readonly string[]> {
  const c = await processCache();
  const session = await c.resolve(member.hash);
  if (!session) throw new Error('no live session');
  return sessionPrincipal(session, true).customRole?.permissions ?? [];
}

async function within(check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > BOUND_MS + MARGIN_MS) throw new Error('not seen within the bound');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

async function setUp() {
  const owner = await signUpOwner(db.app);
  const principal = await principalFromToken(db.app, owner.token);
  if (principal?.kind !== 'session') throw new Error('no owner session');
  const asOwner = createCaller(createTestContext(db.app, { principal }));
  const { id: roleId } = await asOwner.roles.create({
    name: 'auditor',
    permissions: ['audit:read'],
  });
  const member = await seedMember(db.app, owner.tenant.id, 'member', roleId);
  expect(await permissionsSeen(member)).toEqual(['audit:read']);
  return { asOwner, roleId, member, tenantId: owner.tenant.id };
}

test("a role edit reaches every signed-in member's cached session within the bound", async () => {
  const { asOwner, roleId, member, tenantId } = await setUp();
  const other = await seedMember(db.app, tenantId, 'member', roleId);
  expect(await permissionsSeen(other)).toEqual(['audit:read']);
  await asOwner.roles.update({ id: roleId, permissions: ['users:read'] });
  await within(async () => (await permissionsSeen(member)).includes('users:read'));
  await within(async () => (await permissionsSeen(other)).includes('users:read'));
  const session = await (await processCache()).resolve(member.hash);
  if (!session) throw new Error('no live session');
  expect(holds(sessionPrincipal(session, true), 'audit:read')).toBe(false);
});

test("a deleted role leaves its members' cached sessions with member rights within the bound", async () => {
  const { asOwner, roleId, member } = await setUp();
  await asOwner.roles.delete({ id: roleId });
  await within(async () => (await permissionsSeen(member)).length === 0);
  const session = await (await processCache()).resolve(member.hash);
  expect(session?.role).toBe('member');
  expect(session?.customRole).toBeUndefined();
});

test('taking a custom role from a member reaches their cached session within the bound', async () => {
  const { asOwner, member } = await setUp();
  // setRole revokes the member's sessions (a privilege change gets new sessions), which the cache
  // hears as well: the old session ends.
  await asOwner.users.setRole({ userId: member.userId, role: 'member', customRoleId: null });
  await within(async () => (await (await processCache()).resolve(member.hash)) === null);
});
