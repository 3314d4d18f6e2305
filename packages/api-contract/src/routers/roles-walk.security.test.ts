// Attack: a member with a custom role calls procedures its permissions do not cover, directly
// (tRPC or REST), hoping some procedure checks a fixed role, checks nothing, or checks the wrong
// permission. Walks the whole router as several custom roles and asserts that each procedure is
// refused at the door exactly when the role lacks the permission the procedure declares
// ('self' procedures: never). docs/roles.md; docs/contributing.md convention 7; ASVS V4.1.3, V4.2.1.
import { CUSTOM_ROLE_PERMISSIONS, PERMISSIONS, type Permission } from '@tessera/auth/roles';
import { useTestDatabase } from '@tessera/db/testing';
import { TRPCError } from '@trpc/server';
import { expect, test } from 'vitest';
import type { z } from 'zod';
import type { SessionPrincipal } from '../context.js';
import { appRouter } from '../root.js';
import type { Access } from '../trpc.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  principalOf,
  seedMember,
  signUpOwner,
  testServices,
} from '../testing/index.js';
import { sampleOf } from '../testing/input-samples.js';
import { AuthError } from '@tessera/auth';

const db = useTestDatabase();
const services = testServices({
  sso: { outbound: { mode: 'development' }, platformProviders: [] },
});

type Procedure = { _def: { type: string; inputs: z.ZodType[]; meta?: { access?: Access } } };
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, Procedure>,
).filter(([, p]) => p._def.meta?.access !== 'public');

/** Did `authorize` refuse the call (not the procedure's own checks after it let the call in)? */
function refusedAtTheDoor(error: unknown): boolean {
  if (!(error instanceof TRPCError) || !(error.cause instanceof AuthError)) return false;
  // authorize throws a bare `forbidden`: no detail, no field. Later refusals carry one, or another code.
  return (
    error.code === 'FORBIDDEN' &&
    error.cause.code === 'forbidden' &&
    error.cause.detail === undefined &&
    error.cause.field === undefined
  );
}

async function walk(principal: SessionPrincipal): Promise<Map<string, boolean>> {
  const entered = new Map<string, boolean>();
  let n = 0;
  for (const [name, procedure] of procedures) {
    n += 1;
    const caller = createCaller(
      createTestContext(db.app, { principal, services, ip: `2001:db8::${n.toString(16)}` }),
    );
    const call = name
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
      input: unknown,
    ) => Promise<unknown>;
    const schema = procedure._def.inputs[0];
    try {
      await call(schema ? sampleOf(schema) : undefined);
      entered.set(name, true);
    } catch (error) {
      entered.set(name, !refusedAtTheDoor(error));
    }
  }
  return entered;
}

function expected(access: Access | undefined, held: readonly Permission[]): boolean {
  if (access === undefined || access === 'public') return true;
  if (access.apiKeyOnly) return false;
  return access.permission === 'self' || held.includes(access.permission);
}

// Custom roles carry only CUSTOM_ROLE_PERMISSIONS; the rest is walked not held here, and held by
// the built-in admin in the built-in role tests.
const even = CUSTOM_ROLE_PERMISSIONS.filter((_, i) => i % 2 === 0);
const odd = CUSTOM_ROLE_PERMISSIONS.filter((_, i) => i % 2 === 1);
const ROLES: Record<string, readonly Permission[]> = {
  'no permissions': [],
  'support agent': ['users:read', 'users:write', 'audit:read'],
  'even half of the vocabulary': even,
  'odd half of the vocabulary': odd,
};

test.each(Object.entries(ROLES))(
  'a custom role with %s enters exactly the procedures whose permission it holds',
  { timeout: 120_000 },
  async (_label, permissions) => {
    const owner = await signUpOwner(db.app, { services });
    const ownerPrincipal = await principalFromToken(db.app, owner.token);
    if (ownerPrincipal?.kind !== 'session') throw new Error('no owner session');
    const asOwner = createCaller(
      createTestContext(db.app, { principal: ownerPrincipal, services }),
    );
    const { id } = await asOwner.roles.create({ name: 'walked', permissions: [...permissions] });
    const member = await seedMember(db.app, owner.tenant.id, 'member', id);
    const principal = await principalOf(db.app, member);
    expect(principal.customRole?.permissions).toEqual(permissions);

    const entered = await walk(principal);
    const wrong = procedures
      .filter(([name, p]) => entered.get(name) !== expected(p._def.meta?.access, permissions))
      .map(([name, p]) => {
        const access = p._def.meta?.access;
        const needs = access === 'public' ? 'public' : access?.permission;
        return `${name} (needs ${needs}): ${entered.get(name) ? 'entered' : 'refused'}`;
      });
    expect(wrong).toEqual([]);
    // The walk is walking: both outcomes occur unless the role holds nothing.
    expect([...entered.values()].filter(Boolean).length).toBeGreaterThan(20);
    if (permissions.length > 0) expect([...entered.values()].some((v) => !v)).toBe(true);
  },
);

test('the two halves together hold every permission a custom role may carry, so each was walked held and not held', () => {
  expect([...even, ...odd].sort()).toEqual([...CUSTOM_ROLE_PERMISSIONS].sort());
  const declared = new Set(
    procedures
      .map(([, p]) => p._def.meta?.access)
      .flatMap((a) => (a && a !== 'public' ? [a.permission] : [])),
  );
  // Every permission guards at least one procedure: none is dead vocabulary.
  expect(PERMISSIONS.filter((p) => !declared.has(p))).toEqual([]);
});
