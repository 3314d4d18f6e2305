// What one password sign-in costs the database: the statements it sends and the round trips it
// waits for. Every round trip is a wait on the network and every statement CPU in this process and
// in PostgreSQL, next to the Argon2id verify that should dominate a sign-in. The bounds below are
// upper bounds: a change that adds a round trip or a statement to the sign-in path fails here and
// has to say why it is worth it.
import { randomBytes } from 'node:crypto';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { TEST_PARAMS } from '../passwords/hashing-params.js';
import { createPasswordService } from '../passwords/password-service.js';
import { createRateLimiter } from '../rate-limit/rate-limiter.js';
import type { AccountDeps } from '../context/deps.js';
import { signIn } from './sign-in.js';
import { signUp } from './sign-up.js';

const db = useTestDatabase();
const PASSWORD = 'quiet-lantern-orbit-maple-7391';
const request = { ip: '198.51.100.20', userAgent: 'RoundTrips/1.0' };

function accountDeps(): AccountDeps {
  return {
    passwords: createPasswordService({ params: TEST_PARAMS }),
    limiter: createRateLimiter(),
    keyring: parseKeyring(generateKeyringSpec()),
    publicUrl: 'http://localhost:3000',
  };
}

interface Traffic {
  statements: string[];
  /** Statements grouped by flight: a new flight starts when the code waited for an answer first. */
  flights: string[][];
}

type QueuedClient = {
  _queryQueue: { push: (...queries: { text?: unknown }[]) => number };
  connection: {
    on(event: 'readyForQuery', listener: () => void): void;
    off(event: 'readyForQuery', listener: () => void): void;
  };
};

/**
 * Records every statement sent on the app pool's connections while `body` runs, grouped into
 * round trips: a statement issued after an answer arrived (on any connection) starts a new one,
 * one issued before any answer came back travels with the previous ones (pipelined). Watches
 * node-postgres' own queue and ReadyForQuery messages, beneath any wrapper of `client.query`
 * (tenant-context.ts counts statements through one).
 */
async function recordTraffic(body: (live: Traffic) => Promise<unknown>): Promise<Traffic> {
  const traffic: Traffic = { statements: [], flights: [] };
  let answered = true;
  const onAnswer = (): void => {
    answered = true;
  };
  const watched = new Set<QueuedClient>();
  const onAcquire = (acquired: unknown): void => {
    const client = acquired as QueuedClient;
    if (watched.has(client)) return;
    watched.add(client);
    const queue = client._queryQueue;
    const push = queue.push.bind(queue);
    queue.push = (...queries) => {
      for (const query of queries) {
        const text = (typeof query.text === 'string' ? query.text : '').replace(/\s+/g, ' ').trim();
        if (answered) traffic.flights.push([]);
        answered = false;
        traffic.flights.at(-1)?.push(text);
        traffic.statements.push(text);
      }
      return push(...queries);
    };
    client.connection.on('readyForQuery', onAnswer);
  };
  db.app.pool.on('acquire', onAcquire);
  try {
    await body(traffic);
  } finally {
    db.app.pool.off('acquire', onAcquire);
    for (const client of watched) {
      delete (client._queryQueue as { push?: unknown }).push; // back to Array.prototype.push
      client.connection.off('readyForQuery', onAnswer);
    }
  }
  return traffic;
}

async function owner(
  deps: AccountDeps,
): Promise<{ slug: string; email: string; tenantId: string; userId: string }> {
  const slug = `rt-${randomBytes(4).toString('hex')}`;
  const email = `${slug}@example.com`;
  const { user, tenant } = await signUp(
    db.app,
    deps,
    { tenantName: 'Round Trips', tenantSlug: slug, email, password: PASSWORD },
    request,
    new Date(),
  );
  return { slug, email, tenantId: tenant.id, userId: user.id };
}

/**
 * The statements sent before the password verify began, taken from the live recording, and the
 * app role's connections that had a transaction open when it began (read from pg_stat_activity).
 */
function watchVerify(deps: AccountDeps): {
  live: Traffic | null;
  sentBeforeHash: string[];
  openDuringHash: number | null;
} {
  const seen = {
    live: null as Traffic | null,
    sentBeforeHash: [] as string[],
    openDuringHash: null as number | null,
  };
  const verify = deps.passwords.verify.bind(deps.passwords);
  deps.passwords.verify = async (...args) => {
    seen.sentBeforeHash = [...(seen.live?.statements ?? [])];
    const { rows } = await db.owner.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND usename <> current_user
          AND state LIKE 'idle in transaction%'`,
    );
    seen.openDuringHash = rows[0]?.n ?? null;
    return verify(...args);
  };
  return seen;
}

test('a successful password sign-in from a known device: at most 5 round trips and 14 statements, none open during the hash', async () => {
  const deps = accountDeps();
  const { slug, email } = await owner(deps);
  await signIn(db.app, deps, { tenantSlug: slug, email, password: PASSWORD }, request, new Date()); // the device becomes known
  const hash = watchVerify(deps);
  const traffic = await recordTraffic((live) => {
    hash.live = live;
    return signIn(
      db.app,
      deps,
      { tenantSlug: slug, email, password: PASSWORD },
      request,
      new Date(),
    );
  });
  // Before: 24 statements in 18 round trips (three transactions, every statement awaited).
  expect(traffic.flights.length).toBeLessThanOrEqual(5);
  expect(traffic.statements.length).toBeLessThanOrEqual(14);
  // Argon2id runs with no transaction open: the attempt's read before it went as one implicit
  // transaction (no BEGIN or COMMIT), answered before the hash began.
  expect(hash.sentBeforeHash.length).toBeGreaterThan(0);
  expect(hash.sentBeforeHash.filter((t) => /^BEGIN/.test(t))).toEqual([]);
  expect(hash.openDuringHash).toBe(0);
  expect(traffic.statements.filter((t) => /^BEGIN/.test(t)).length).toBe(
    traffic.statements.filter((t) => t === 'COMMIT').length,
  );
});

test('a failed password sign-in: at most 8 round trips and 13 statements', async () => {
  const deps = accountDeps();
  const { slug, email } = await owner(deps);
  const traffic = await recordTraffic(() =>
    expect(
      signIn(
        db.app,
        deps,
        { tenantSlug: slug, email, password: `${PASSWORD}x` },
        request,
        new Date(),
      ),
    ).rejects.toThrow(),
  );
  // Before: 15 statements in 11 round trips.
  expect(traffic.statements).toContain('COMMIT'); // the recorder saw the traffic (it watches node-postgres internals)
  expect(traffic.flights.length).toBeLessThanOrEqual(8);
  expect(traffic.statements.length).toBeLessThanOrEqual(13);
});

// What the trimmed path reads and writes in one statement (sign-in-risk.ts readSignInFacts), held
// to the documented behaviour: device novelty read before the device is remembered, the new-device
// mail only for a user seen before, the risk signals, failures cleared, nothing remembered when a
// second factor is asked for.
async function signInEvents(
  tenantId: string,
): Promise<{ action: string; metadata: Record<string, unknown>; risk: number }[]> {
  const { rows } = await db.owner.pool.query<{
    action: string;
    metadata: Record<string, unknown>;
    risk: number;
  }>(
    `SELECT action, metadata, risk_score AS risk FROM audit_logs WHERE tenant_id = $1 AND action LIKE 'auth.sign_in.%' ORDER BY seq`,
    [tenantId],
  );
  return rows;
}

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await db.owner.pool.query<{ n: number }>(sql, values);
  return rows[0]?.n ?? 0;
}

test('new device, known device, new address: audit metadata, risk score, the new-device mail and the remembered pairs', async () => {
  const deps = accountDeps();
  const o = await owner(deps);
  const at = new Date('2026-05-04T09:00:00Z');
  const known = (ip: string) =>
    count(
      `SELECT count(*)::int AS n FROM known_devices WHERE user_id = $1 AND ip_address = $2::inet`,
      [o.userId, ip],
    );
  const mails = () =>
    count(
      `SELECT count(*)::int AS n FROM email_outbox WHERE user_id = $1 AND template = 'new_sign_in'`,
      [o.userId],
    );
  await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    request,
    at,
  );
  expect(await known(request.ip)).toBe(1);
  expect(await mails()).toBe(0); // the first device of a user is no news
  await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    request,
    new Date(at.getTime() + 60_000),
  );
  const elsewhere = { ip: '203.0.113.9', userAgent: request.userAgent };
  await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    elsewhere,
    new Date(at.getTime() + 120_000),
  );
  expect(await known(elsewhere.ip)).toBe(1);
  expect(await mails()).toBe(1);
  expect(await signInEvents(o.tenantId)).toEqual([
    {
      action: 'auth.sign_in.succeeded',
      metadata: { via: 'password', newDevice: true, enrollmentOnly: false },
      risk: 40,
    }, // new IP + new user agent
    {
      action: 'auth.sign_in.succeeded',
      metadata: { via: 'password', newDevice: false, enrollmentOnly: false },
      risk: 0,
    },
    {
      action: 'auth.sign_in.succeeded',
      metadata: { via: 'password', newDevice: true, enrollmentOnly: false },
      risk: 25,
    }, // new IP only
  ]);
});

test('failures before a success raise its risk score and are cleared by it, on the address and on the user', async () => {
  const deps = accountDeps();
  const o = await owner(deps);
  await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    request,
    new Date(),
  );
  for (let i = 0; i < 2; i += 1)
    await expect(
      signIn(
        db.app,
        deps,
        { tenantSlug: o.slug, email: o.email, password: 'not-the-password-1' },
        request,
        new Date(),
      ),
    ).rejects.toThrow();
  expect(
    await count(`SELECT failed_login_attempts AS n FROM users WHERE id = $1`, [o.userId]),
  ).toBe(2);
  await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    request,
    new Date(),
  );
  expect((await signInEvents(o.tenantId)).at(-1)).toMatchObject({
    action: 'auth.sign_in.succeeded',
    risk: 20,
  });
  expect(
    await count(`SELECT failed_login_attempts AS n FROM users WHERE id = $1`, [o.userId]),
  ).toBe(0);
  expect(
    await count(`SELECT failures AS n FROM login_throttles WHERE tenant_id = $1 AND email = $2`, [
      o.tenantId,
      o.email,
    ]),
  ).toBe(0);
});

test('a user with a second factor gets a challenge: failures cleared, no session, the device not remembered yet', async () => {
  const deps = accountDeps();
  const o = await owner(deps);
  await db.owner.pool.query(
    `INSERT INTO mfa_totp (tenant_id, user_id, secret_ciphertext, enabled_at) VALUES ($1, $2, 'v1.sealed', now())`,
    [o.tenantId, o.userId],
  );
  await expect(
    signIn(
      db.app,
      deps,
      { tenantSlug: o.slug, email: o.email, password: 'not-the-password-1' },
      request,
      new Date(),
    ),
  ).rejects.toThrow();
  const sessionsBefore = await count(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [
    o.userId,
  ]);
  const result = await signIn(
    db.app,
    deps,
    { tenantSlug: o.slug, email: o.email, password: PASSWORD },
    request,
    new Date(),
  );
  expect(result).toEqual({ status: 'mfa_required', challengeToken: expect.any(String) });
  expect(
    await count(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [o.userId]),
  ).toBe(sessionsBefore);
  expect(
    await count(`SELECT count(*)::int AS n FROM known_devices WHERE user_id = $1`, [o.userId]),
  ).toBe(0);
  expect(
    await count(
      `SELECT count(*)::int AS n FROM mfa_challenges WHERE user_id = $1 AND used_at IS NULL`,
      [o.userId],
    ),
  ).toBe(1);
  expect(
    await count(`SELECT failed_login_attempts AS n FROM users WHERE id = $1`, [o.userId]),
  ).toBe(0);
  expect((await signInEvents(o.tenantId)).map((e) => e.action)).toEqual([
    'auth.sign_in.failed',
    'auth.sign_in.mfa_required',
  ]);
});
