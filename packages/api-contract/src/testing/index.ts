/**
 * In-process callers for procedure tests (docs/contributing.md convention 13): real database, real services,
 * cheap Argon2id parameters, a cookie jar that records what the transport would send.
 */
import { hashSessionToken } from '@tessera/auth/sessions';
import { createRateLimiter } from '@tessera/auth/rate-limit';
import { type AccountDeps } from '@tessera/auth/context';
import { parseKeyring, generateKeyringSpec } from '@tessera/auth';
import { createPasswordService, TEST_PARAMS } from '@tessera/auth/passwords';
import { parsePepperRing } from '@tessera/auth/api-keys';
import { resolveSession, type Database } from '@tessera/db';
import type { Context, Principal, Services } from '../context.js';
import { sessionPrincipal } from '../principal.js';
import { createCaller } from '../root.js';

export interface RecordingJar {
  token: string | null;
  expiresAt: Date | null;
  cleared: boolean;
  set(token: string, expiresAt: Date): void;
  clear(): void;
  /** The remembered-device cookie: `token` starts as the one the request carried. */
  device: {
    token: string | undefined;
    expiresAt: Date | null;
    cleared: boolean;
    set(token: string, expiresAt: Date): void;
    clear(): void;
  };
}

export function recordingJar(deviceToken?: string): RecordingJar {
  const device: RecordingJar['device'] = {
    token: deviceToken,
    expiresAt: null,
    cleared: false,
    set(token, expiresAt) {
      device.token = token;
      device.expiresAt = expiresAt;
    },
    clear() {
      device.token = undefined;
      device.cleared = true;
    },
  };
  const jar: RecordingJar = {
    token: null,
    expiresAt: null,
    cleared: false,
    set(token, expiresAt) {
      jar.token = token;
      jar.expiresAt = expiresAt;
    },
    clear() {
      jar.token = null;
      jar.cleared = true;
    },
    device,
  };
  return jar;
}

export function testAccountDeps(overrides: Partial<AccountDeps> = {}): AccountDeps {
  return {
    passwords: createPasswordService({ params: TEST_PARAMS }),
    limiter: createRateLimiter(),
    keyring: parseKeyring(generateKeyringSpec()),
    publicUrl: 'http://localhost:3000',
    ...overrides,
  };
}

export function testServices(overrides: Partial<Services> = {}): Services {
  return {
    accounts: testAccountDeps(),
    apiKeys: { peppers: parsePepperRing(generateKeyringSpec()) },
    signupOpen: true,
    callLimit: { max: 100_000, windowMs: 60_000 },
    ...overrides,
  };
}

export interface TestContextOptions {
  principal?: Principal | null;
  services?: Services;
  ip?: string;
  userAgent?: string;
  now?: () => Date;
  /** The remembered-device cookie the request carries. */
  deviceToken?: string;
}

export function createTestContext(
  db: Database,
  options: TestContextOptions = {},
): Context & { cookies: RecordingJar } {
  return {
    db,
    meta: {
      ip: options.ip ?? '203.0.113.7',
      userAgent: options.userAgent ?? 'vitest',
      requestId: 'test',
    },
    principal: options.principal ?? null,
    services: options.services ?? testServices(),
    cookies: recordingJar(options.deviceToken),
    now: options.now ?? (() => new Date()),
  };
}

/**
 * Resolves a session token exactly as the transport does, on the database clock: to test a
 * timeout, backdate the session row through the owner connection.
 */
export async function principalFromToken(db: Database, token: string): Promise<Principal | null> {
  const session = await resolveSession(db.pool, hashSessionToken(token));
  return session ? sessionPrincipal(session) : null;
}

export type Caller = ReturnType<typeof createCaller>;

/** A caller acting with the session behind `token`. */
export async function callerFor(
  db: Database,
  token: string,
  options: Omit<TestContextOptions, 'principal'> = {},
): Promise<Caller> {
  const principal = await principalFromToken(db, token);
  if (!principal) throw new Error('token does not resolve to a live session');
  return createCaller(createTestContext(db, { ...options, principal }));
}

export { createCaller };
export * from './seed.js';
export * from './mail.js';
export * from './overview-seed.js';
export * from './roles-seed.js';
