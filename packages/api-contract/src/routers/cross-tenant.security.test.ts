// Attack: a signed-in user of tenant A passes ids that belong to tenant B (sessions, users) to
// every procedure that takes an id. RLS must make B's rows invisible, so each call fails with
// NOT_FOUND and B's data is unchanged. DESIGN rule 1; ASVS V4.2.1 (IDOR).
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { callerFor, principalFromToken, signUpOwner } from '../testing/index.js';

const db = useTestDatabase();

test("tenant A's owner cannot touch tenant B's users or sessions by id", async () => {
  const a = await signUpOwner(db.app);
  const b = await signUpOwner(db.app);
  const bSession = await principalFromToken(db.app, b.token);
  const asA = await callerFor(db.app, a.token);
  const notFound = { code: 'NOT_FOUND' };
  await expect(asA.users.setRole({ userId: b.user.id, role: 'member' })).rejects.toMatchObject(notFound);
  await expect(asA.users.disable({ userId: b.user.id })).rejects.toMatchObject(notFound);
  await expect(asA.users.unlock({ userId: b.user.id })).rejects.toMatchObject(notFound);
  await expect(asA.sessions.revoke({ sessionId: bSession?.kind === 'session' ? bSession.sessionId : '' })).rejects.toMatchObject(notFound);
  const listed = await asA.users.list();
  expect(listed.items.map((u) => u.id)).toEqual([a.user.id]);
  const asB = await callerFor(db.app, b.token);
  expect((await asB.auth.me()).user.role).toBe('owner');
  expect(await principalFromToken(db.app, b.token)).not.toBeNull();
});
