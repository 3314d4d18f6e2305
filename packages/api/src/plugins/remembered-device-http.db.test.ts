/**
 * Remembered devices over real HTTP: `auth.verifyMfa({ rememberDevice: true })` sets the
 * device cookie through the Fastify transport, and the next password sign-in that carries it skips
 * the second factor. The in-process caller tests cannot see a transport that forgets the cookie.
 */
import { totpCodeAt } from '@tessera/auth/mfa';
import {
  callerFor,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const services = testServices();
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent' },
    { database: db.app, services },
  );
});
afterAll(async () => app.close());

const post = (url: string, body: unknown, cookie?: string) =>
  app.inject({
    method: 'POST',
    url,
    payload: body as object,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
  });

type SignInAnswer = { result: { data: { status: string; challengeToken: string } } };

function cookieNamed(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return all.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
}

test('a remembered device skips the second factor over HTTP; without its cookie the factor is asked', async () => {
  const owner = await signUpOwner(db.app, { services });
  const caller = await callerFor(db.app, owner.token, { services });
  const { secret } = await caller.mfa.beginEnrollment();
  const enrolledAt = Date.now();
  await caller.mfa.confirmEnrollment({ code: totpCodeAt(secret, new Date(enrolledAt)) });

  const credentials = {
    tenantSlug: owner.tenant.slug,
    email: owner.user.email,
    password: STRONG_PASSWORD,
  };
  const first = await post('/trpc/auth.signIn', credentials);
  const { challengeToken } = first.json<SignInAnswer>().result.data;
  const verified = await post('/trpc/auth.verifyMfa', {
    challengeToken,
    code: totpCodeAt(secret, new Date(enrolledAt + 30_000)),
    rememberDevice: true,
  });
  expect(verified.statusCode).toBe(200);
  const device = cookieNamed(verified.headers['set-cookie'], 'tessera_device');
  expect(device).toMatch(/^tessera_device=[A-Za-z0-9_-]{20,}$/);

  const again = await post('/trpc/auth.signIn', credentials, device);
  expect(again.json<SignInAnswer>().result.data.status).toBe('signed_in');
  expect(cookieNamed(again.headers['set-cookie'], 'tessera_session')).toBeDefined();

  const without = await post('/trpc/auth.signIn', credentials);
  expect(without.json<SignInAnswer>().result.data.status).toBe('mfa_required');
});
