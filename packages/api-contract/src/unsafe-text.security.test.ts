// Attack: a NUL byte or an unpaired surrogate in any string of any procedure's input (e-mail at
// sign-in, a reason, a WebAuthn field, a property name). PostgreSQL refuses U+0000 in text, which
// surfaced as a 500; a lone surrogate is silently rewritten to U+FFFD on the way to the database.
// Every procedure must refuse both at the boundary with a typed 400 (`invalid_input`, the field
// named) before zod and before any database work. docs/design.md rule 5; ASVS V5.1.4, V5.2.
import { useTestDatabase } from '@tessera/db/testing';
import { TRPCError } from '@trpc/server';
import { afterEach, expect, test, vi } from 'vitest';
import type { z } from 'zod';
import { appRouter } from './root.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  type Caller,
} from './testing/index.js';
import { sampleOf, stringLeaves, withValueAt } from './testing/input-samples.js';

const db = useTestDatabase();

const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: { inputs: z.ZodType[] } }>,
);
const BAD_TEXT = { nul: 'a\u0000b', loneHigh: 'x\uD800', loneLow: '\uDC00y' } as const;

type Call = (input: unknown) => Promise<unknown>;
const procedureOf = (caller: Caller, name: string): Call =>
  name
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as Call;

async function refusal(
  call: Promise<unknown>,
): Promise<{ code: string; reason: unknown; field: unknown }> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError))
    return { code: 'NO_ERROR', reason: undefined, field: undefined };
  const cause = error.cause as { code?: unknown; field?: unknown } | undefined;
  return { code: error.code, reason: cause?.code, field: cause?.field };
}

afterEach(() => vi.restoreAllMocks());

test('every string field of every procedure refuses NUL and unpaired surrogates with a typed 400, before the database', async () => {
  const owner = await signUpOwner(db.app);
  const principal = await principalFromToken(db.app, owner.token);
  const callers = {
    anonymous: createCaller(createTestContext(db.app)),
    owner: createCaller(createTestContext(db.app, { principal })),
  };
  const query = vi.spyOn(db.app.pool, 'query');
  const connect = vi.spyOn(db.app.pool, 'connect');
  let fields = 0;
  let calls = 0;
  const wrong: string[] = [];
  for (const [name, procedure] of procedures) {
    for (const schema of procedure._def.inputs) {
      const base = sampleOf(schema);
      for (const leaf of stringLeaves(schema)) {
        fields += 1;
        const field = leaf.path.join('.');
        for (const [label, text] of Object.entries(BAD_TEXT)) {
          for (const [who, caller] of Object.entries(callers)) {
            calls += 1;
            const got = await refusal(
              procedureOf(caller, name)(withValueAt(schema, base, leaf.path, text)),
            );
            const expected = { code: 'BAD_REQUEST', reason: 'invalid_input', field };
            if (JSON.stringify(got) !== JSON.stringify(expected))
              wrong.push(`${name} ${field} ${label} as ${who}: ${JSON.stringify(got)}`);
          }
        }
      }
    }
  }
  expect(wrong).toEqual([]);
  expect(query).not.toHaveBeenCalled();
  expect(connect).not.toHaveBeenCalled();
  // The walk itself must be walking: 82 procedures and 132 string fields when this was written.
  expect(procedures.length).toBeGreaterThan(75);
  expect(fields).toBeGreaterThan(120);
  expect(calls).toBe(fields * 6);
});

test('property names are checked too, and procedures without input refuse unsafe text as well', async () => {
  const caller = createCaller(createTestContext(db.app));
  const signIn = { tenantSlug: 'acme', email: 'a@example.com', password: 'x'.repeat(12) };
  await expect(
    refusal(caller.auth.signIn({ ...signIn, ['e\u0000mail']: 'x' } as typeof signIn)),
  ).resolves.toEqual({ code: 'BAD_REQUEST', reason: 'invalid_input', field: '_' });
  await expect(
    refusal(caller.auth.signIn({ ...signIn, ['\uD800']: 'x' } as typeof signIn)),
  ).resolves.toEqual({ code: 'BAD_REQUEST', reason: 'invalid_input', field: '_' });
  const call = procedureOf(caller, 'auth.me');
  await expect(refusal(call({ note: ['ok', { deep: '\u0000' }] }))).resolves.toEqual({
    code: 'BAD_REQUEST',
    reason: 'invalid_input',
    field: 'note.1.deep',
  });
});

test('well-formed text, surrogate pairs and other control characters still reach zod and the procedure', async () => {
  const caller = createCaller(createTestContext(db.app));
  const strength = await caller.auth.passwordStrength({
    password: 'rocket 🚀 tea\tcup\u0001 ünïcode',
    email: 'a@example.com',
  });
  expect(strength.score).toBeGreaterThanOrEqual(0);
  // A malformed input without unsafe text is still zod's to refuse (fieldErrors, no reason).
  await expect(
    refusal(
      caller.auth.signIn({ tenantSlug: 'acme', email: 'a@example.com' } as {
        tenantSlug: string;
        email: string;
        password: string;
      }),
    ),
  ).resolves.toMatchObject({ code: 'BAD_REQUEST', reason: undefined });
});
