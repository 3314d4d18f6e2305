// Erasure must reach every place that can hold the subject's address, not only the tables a
// source names (docs/design.md "Privacy": direct identifiers removed from every registered source). The
// subject goes through real flows (failed sign-ins, a lockout, reset and verification requests, an
// address change), is erased, and then every column of every table is scanned for the address in
// any form the code stores it: as typed, normalised, former addresses, and their SHA-256 digests.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { addressLimits } from '../accounts/address-limits.js';
import type { AccountDeps } from '../context/deps.js';
import { confirmEmailChange, requestEmailChange } from '../accounts/email-change.js';
import { requestEmailVerification } from '../accounts/email-verification.js';
import { requestPasswordReset } from '../accounts/passwords-flow.js';
import { signIn } from '../accounts/sign-in.js';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { OUTBOX_PURPOSE } from '../outbox/enqueue-email.js';
import { TEST_PARAMS } from '../passwords/hashing-params.js';
import { createPasswordService } from '../passwords/password-service.js';
import { createRateLimiter, MemoryRateLimitStore } from '../rate-limit/rate-limiter.js';
import { processDeletionRequest } from './erase-user-data.js';
import { claimPrivacyRequest } from './processing.js';
import { createPrivacyRequest } from './requests.js';
import { personalDataSources } from './sources/index.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const PASSWORD = 'quiet-lantern-orbit-maple-7391';
const request = { ip: '198.51.100.77', userAgent: 'MarkerBrowser/1.0' };
let clock = new Date('2026-05-04T09:00:00Z');
const tick = (): Date => (clock = new Date(clock.getTime() + 61_000));

function accountDeps(store = new MemoryRateLimitStore()): AccountDeps {
  return {
    passwords: createPasswordService({ params: TEST_PARAMS }),
    limiter: createRateLimiter(store),
    keyring,
    publicUrl: 'http://localhost:3000',
  };
}

async function tokenMailedTo(tenantId: string, to: string, path: string): Promise<string> {
  const { rows } = await db.owner.pool.query<{ id: string; body: string }>(
    `SELECT id, body FROM email_outbox WHERE tenant_id = $1 AND to_address = $2 ORDER BY created_at DESC, id`,
    [tenantId, to],
  );
  for (const row of rows) {
    const token = new RegExp(`${path}#token=([A-Za-z0-9_-]{43})`).exec(
      keyring.decryptString(row.body, { purpose: OUTBOX_PURPOSE, tenantId, rowId: row.id }),
    )?.[1];
    if (token) return token;
  }
  throw new Error(`no ${path} token mailed`);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Every form of the marker the code could store: the random tag covers the clear forms in any case. */
function needlesFor(tag: string, addresses: string[], slug: string): string[] {
  const digests = addresses
    .flatMap((a) => [a, `sign_in:account:${slug}:${a}`, `reset:account:${slug}:${a}`])
    .map(sha256);
  return [
    tag,
    ...digests.flatMap((d) => [d.toString('hex'), d.toString('base64'), d.toString('base64url')]),
  ];
}

async function tablesHolding(needles: string[]): Promise<string[]> {
  const { rows: tables } = await db.owner.pool.query<{ schema: string; table: string }>(`
    SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
  const hits: string[] = [];
  for (const { schema, table } of tables) {
    const name = `"${schema.replaceAll('"', '""')}"."${table.replaceAll('"', '""')}"`;
    const { rows } = await db.owner.pool.query<{ r: string }>(
      // eslint-disable-next-line tessera/no-raw-sql-interpolation -- identifiers cannot be bind parameters; these come from the catalog, quoted
      `SELECT row_to_json(t)::text AS r FROM ${name} t`,
    );
    for (const { r } of rows) {
      // The erasure confirmation is the one row allowed to name the current address, until delivered.
      if (r.includes('"template":"privacy_erasure_completed"')) continue;
      const found = needles.find((n) => r.toLowerCase().includes(n.toLowerCase()));
      if (found) hits.push(`${schema}.${table}: ${r.slice(0, 300)}`);
    }
  }
  return hits;
}

test('after erasure no table holds the address, a former address, or a digest of either', async () => {
  const tenant = await db.seedTenant();
  const tag = `mk${randomBytes(5).toString('hex')}`;
  const typed = ` ${tag.toUpperCase()}.Sam@Example.COM `;
  const first = `${tag}.sam@example.com`;
  const second = `${tag}.new@example.org`;
  const subjectId = randomUUID();
  const store = new MemoryRateLimitStore(); // the limiter's counters: memory here, Redis when shared
  const deps = accountDeps(store);
  const hash = await deps.passwords.hash(PASSWORD, tenant.id);
  await db.withTenant(tenant.id, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role, display_name, password_hash, password_algorithm) VALUES ($1, $2, 'boss@example.com', 'owner', 'Boss', NULL, NULL), ($3, $2, $4, 'member', 'Sam', $5, 'argon2id')`,
      [randomUUID(), tenant.id, subjectId, first, hash],
    ),
  );

  // Failed sign-ins up to a lockout, as typed by a person (case and spaces), then the reset and
  // verification flows, then an address change: the first address is a former one from then on.
  for (let i = 0; i < 6; i += 1)
    await signIn(
      db.app,
      deps,
      { tenantSlug: tenant.slug, email: typed, password: 'wrong-password-wrong-password' },
      request,
      tick(),
    ).catch(() => undefined);
  await requestPasswordReset(
    db.app,
    deps,
    { tenantSlug: tenant.slug, email: typed },
    request,
    tick(),
  );
  await withTenant(db.app, tenant.id, (tx) =>
    requestEmailVerification(tx, {
      deps,
      actor: { tenantId: tenant.id, userId: subjectId },
      request,
      now: tick(),
    }),
  );
  clock = new Date(clock.getTime() + 3_600_000); // the lockout is over
  await requestEmailChange(
    { db: db.app, deps, actor: { tenantId: tenant.id, userId: subjectId }, request, now: tick() },
    { newEmail: second, password: PASSWORD },
  );
  await confirmEmailChange(
    db.app,
    deps,
    { token: await tokenMailedTo(tenant.id, second, '/confirm-email-change') },
    request,
    tick(),
  );
  // A change asked for and never confirmed: the third address is linked to the subject only by it.
  const third = `${tag}.pending@example.net`;
  await requestEmailChange(
    { db: db.app, deps, actor: { tenantId: tenant.id, userId: subjectId }, request, now: tick() },
    { newEmail: third, password: PASSWORD },
  );
  for (const address of [second, third])
    await signIn(
      db.app,
      deps,
      { tenantSlug: tenant.slug, email: address, password: 'wrong-password-wrong-password' },
      request,
      tick(),
    ).catch(() => undefined);
  const needles = needlesFor(tag, [first, second, third], tenant.slug);
  // Found by content: every table that holds the address or a digest of it is a registered source's.
  const holding = new Set(
    (await tablesHolding(needles)).map((hit) => hit.slice(0, hit.indexOf(':'))),
  );
  expect(holding.size).toBeGreaterThan(3);
  const covered = new Set(
    personalDataSources.flatMap((source) => source.tables.map((t) => `public.${t}`)),
  );
  expect([...holding].filter((table) => !covered.has(table))).toEqual([]);

  const now = tick();
  const requestId = await db.withTenant(
    tenant.id,
    async (tx) =>
      (
        await createPrivacyRequest(
          tx,
          { type: 'user', id: subjectId },
          { userId: subjectId, type: 'deletion' },
          { keyring, now },
        )
      ).request.id,
  );
  await db.withTenant(tenant.id, (tx) => claimPrivacyRequest(tx, requestId, now));
  // Counts in the limiter's current windows, under the current and the pending address.
  for (const address of [second, third]) {
    await signIn(
      db.app,
      deps,
      { tenantSlug: tenant.slug, email: address, password: 'wrong-password-wrong-password' },
      request,
      now,
    ).catch(() => undefined);
    await requestPasswordReset(
      db.app,
      deps,
      { tenantSlug: tenant.slug, email: address },
      request,
      now,
    );
  }
  expect(await counted(deps, tenant.slug, [second, third], now)).toEqual([2, 2, 2, 2]);
  expect(
    await db.withTenant(tenant.id, (tx) =>
      processDeletionRequest(tx, requestId, { keyring, now, limiter: deps.limiter }),
    ),
  ).toBe('completed');
  expect(await tablesHolding(needles)).toEqual([]);
  // The limiter holds no count under any of the subject's addresses either: the next hit is the first.
  expect(await counted(deps, tenant.slug, [first, second, third], now)).toEqual([1, 1, 1, 1, 1, 1]);
});

/** Hits each per-address limit once and returns how many hits its window now holds. */
async function counted(
  deps: AccountDeps,
  slug: string,
  addresses: string[],
  now: Date,
): Promise<number[]> {
  const counts: number[] = [];
  for (const address of addresses) {
    for (const { key, rule } of addressLimits(slug, address)) {
      const { remaining } = await deps.limiter.hit(key, rule, now.getTime());
      counts.push(rule.max - remaining);
    }
  }
  return counts;
}
