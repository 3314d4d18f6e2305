// Attack: a platform-wide sign-in denial of service. Anyone may create a tenant (open sign-up) and
// flood its own sign-ins, or import slow bcrypt hashes, to hold the process-wide password-hash
// queue so that every other tenant's sign-ins stall. The queue is fair by tenant (no tenant holds
// more than half of its slots) and bounded in wait (a sign-in that would wait longer answers 503
// with Retry-After). docs/design.md "Performance budget" (hashing off the event loop); ASVS V2.2.1.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHashQueue, createPasswordService, TEST_PARAMS } from '@tessera/auth/passwords';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import {
  callerFor,
  createCaller,
  createTestContext,
  signUpOwner,
  STRONG_PASSWORD,
  testAccountDeps,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase({ poolSize: 20 });
const fixture = readFileSync(
  fileURLToPath(new URL('../../../auth/test-fixtures/legacy-bcrypt.txt', import.meta.url)),
  'utf8',
);
const legacyHash = /^legacy@example\.com:(.+)$/m.exec(fixture)?.[1] ?? ''; // bcrypt cost 10

type Services = ReturnType<typeof testServices>;

function servicesWith(queue: ReturnType<typeof createHashQueue>): Services {
  return testServices({
    accounts: testAccountDeps({ passwords: createPasswordService({ params: TEST_PARAMS, queue }) }),
  });
}

/** Tenant A with `count` imported bcrypt users: each wrong guess costs a real bcrypt compare. */
async function floodingTenant(services: Services, count: number) {
  const owner = await signUpOwner(db.app, { services });
  const asOwner = await callerFor(db.app, owner.token, { services });
  const users = Array.from({ length: count }, (_, i) => ({
    email: `flood-${i}@example.com`,
    role: 'member' as const,
    passwordHash: legacyHash,
  }));
  await asOwner.users.importLegacy({ users });
  return { slug: owner.tenant.slug, emails: users.map((u) => u.email) };
}

function signInFrom(
  services: Services,
  ip: string,
  input: { tenantSlug: string; email: string; password: string },
) {
  return createCaller(createTestContext(db.app, { services, ip })).auth.signIn(input);
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i += 1)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

test("a flood of sign-ins in one tenant does not queue another tenant's sign-in behind it", async () => {
  const queue = createHashQueue({ concurrency: 2, maxQueued: 1_000, maxWaitMs: 60_000 });
  const services = servicesWith(queue);
  const tenantA = await floodingTenant(services, 16);
  const tenantB = await signUpOwner(db.app, { services });

  let settledA = 0;
  const flood = tenantA.emails.map((email, i) =>
    signInFrom(services, `198.51.100.${i + 1}`, {
      tenantSlug: tenantA.slug,
      email,
      password: 'not-the-legacy-password',
    }).finally(() => (settledA += 1)),
  );
  // Observed from the start: a refusal that settles before the end must not count as unhandled.
  const floodSettled = Promise.allSettled(flood);
  await until(() => queue.queued >= 8);
  expect(queue.queued).toBeGreaterThanOrEqual(8);

  const signedIn = await signInFrom(services, '203.0.113.50', {
    tenantSlug: tenantB.tenant.slug,
    email: tenantB.user.email,
    password: STRONG_PASSWORD,
  });
  const settledWhenBSignedIn = settledA;
  expect(signedIn).toMatchObject({ status: 'signed_in' });
  // Tenant A holds one of the two slots, so B never waits for A's backlog: at least half of A's
  // attempts (each a real bcrypt compare, one at a time) are still unanswered.
  expect(settledWhenBSignedIn).toBeLessThanOrEqual(8);
  const outcomes = await floodSettled;
  expect(
    outcomes.every(
      (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'UNAUTHORIZED',
    ),
  ).toBe(true);
});

test('a sign-in that would wait longer than the bound answers 503 with Retry-After, and is not counted as a failure', async () => {
  // Every task is assumed to take 10 s until one is measured, so nothing may wait under a 1 s bound.
  const queue = createHashQueue({
    concurrency: 2,
    maxQueued: 1_000,
    maxWaitMs: 1_000,
    initialTaskMs: 10_000,
  });
  const services = servicesWith(queue);
  const tenantA = await floodingTenant(services, 4);
  const tenantB = await signUpOwner(db.app, { services });

  const [flood, signedIn] = await Promise.all([
    Promise.allSettled(
      tenantA.emails.map((email, i) =>
        signInFrom(services, `198.51.100.${i + 1}`, {
          tenantSlug: tenantA.slug,
          email,
          password: 'not-the-legacy-password',
        }),
      ),
    ),
    // Tenant B, at the same moment, gets the slot tenant A may not take.
    signInFrom(services, '203.0.113.51', {
      tenantSlug: tenantB.tenant.slug,
      email: tenantB.user.email,
      password: STRONG_PASSWORD,
    }),
  ]);
  expect(signedIn).toMatchObject({ status: 'signed_in' });
  const reasons = flood.map((o) =>
    o.status === 'rejected'
      ? (o.reason as { code?: string; cause?: { code?: string; retryAfterSeconds?: number } })
      : null,
  );
  const busy = reasons.filter((r) => r?.code === 'SERVICE_UNAVAILABLE');
  expect(busy.length).toBeGreaterThanOrEqual(1);
  for (const refusal of busy) {
    expect(refusal?.cause?.code).toBe('server_busy');
    expect(refusal?.cause?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  }
  // Only attempts whose password was actually checked count toward the lockout.
  const { rows } = await db.owner.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = $1 AND a.action = 'auth.sign_in.failed'",
    [tenantA.slug],
  );
  expect(Number(rows[0]?.n)).toBe(flood.length - busy.length);
});
