// What one password sign-in costs the database: the statements it sends and the round trips it
// waits for. Every round trip is a wait on the network and every statement CPU in this process and
// in PostgreSQL, next to the Argon2id verify that should dominate a sign-in. The bounds below are
// upper bounds: a change that adds a round trip or a statement to the sign-in path fails here and
// has to say why it is worth it.
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { TEST_PARAMS } from '../passwords/hashing-params.js';
import { createPasswordService } from '../passwords/password-service.js';
import { createRateLimiter } from '../rate-limit/rate-limiter.js';
import type { AccountDeps } from './deps.js';
import { signIn } from './sign-in.js';
import { signUp } from './sign-up.js';

const db = useTestDatabase();
const PASSWORD = 'quiet-lantern-orbit-maple-7391';
const request = { ip: '198.51.100.20', userAgent: 'RoundTrips/1.0' };

function accountDeps(): AccountDeps {
  return { passwords: createPasswordService({ params: TEST_PARAMS }), limiter: createRateLimiter(), keyring: parseKeyring(generateKeyringSpec()), publicUrl: 'http://localhost:3000' };
}

interface Traffic {
  statements: string[];
  /** Statements grouped by flight: a new flight starts when the code waited for an answer first. */
  flights: string[][];
}

type QueuedClient = { _queryQueue: { push: (...queries: { text?: unknown }[]) => number }; connection: { on(event: 'readyForQuery', listener: () => void): void; off(event: 'readyForQuery', listener: () => void): void } };

/**
 * Records every statement sent on the app pool's connections while `body` runs, grouped into
 * round trips: a statement issued after an answer arrived (on any connection) starts a new one,
 * one issued before any answer came back travels with the previous ones (pipelined). Watches
 * node-postgres' own queue and ReadyForQuery messages, beneath any wrapper of `client.query`
 * (tenant-context.ts counts statements through one).
 */
async function recordTraffic(body: () => Promise<unknown>): Promise<Traffic> {
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
    await body();
  } finally {
    db.app.pool.off('acquire', onAcquire);
    for (const client of watched) {
      delete (client._queryQueue as { push?: unknown }).push; // back to Array.prototype.push
      client.connection.off('readyForQuery', onAnswer);
    }
  }
  return traffic;
}

async function owner(deps: AccountDeps): Promise<{ slug: string; email: string }> {
  const slug = `rt-${Math.random().toString(36).slice(2, 10)}`;
  const email = `${slug}@example.com`;
  await signUp(db.app, deps, { tenantName: 'Round Trips', tenantSlug: slug, email, password: PASSWORD }, request, new Date());
  return { slug, email };
}

test('a successful password sign-in from a known device', async () => {
  const deps = accountDeps();
  const { slug, email } = await owner(deps);
  await signIn(db.app, deps, { tenantSlug: slug, email, password: PASSWORD }, request, new Date()); // the device becomes known
  const traffic = await recordTraffic(() => signIn(db.app, deps, { tenantSlug: slug, email, password: PASSWORD }, request, new Date()));
  console.log(`success: ${traffic.statements.length} statements, ${traffic.flights.length} round trips`, traffic.flights);
  expect(traffic.flights.length).toBeGreaterThan(0);
});

test('a failed password sign-in', async () => {
  const deps = accountDeps();
  const { slug, email } = await owner(deps);
  const traffic = await recordTraffic(() => expect(signIn(db.app, deps, { tenantSlug: slug, email, password: `${PASSWORD}x` }, request, new Date())).rejects.toThrow());
  console.log(`failure: ${traffic.statements.length} statements, ${traffic.flights.length} round trips`, traffic.flights);
  expect(traffic.flights.length).toBeGreaterThan(0);
});
