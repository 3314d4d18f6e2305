// Attack on the SSO second-factor challenge cookie: on a real domain a cookie without the
// `__Host-` prefix can be planted by a sibling subdomain or a plain-http page (cookie tossing), so
// a victim's `auth.verifyMfa` could complete an attacker's challenge. The challenge cookie is named
// like the session cookie: plain only on http://localhost, `__Host-` (Secure, Path=/, no Domain)
// elsewhere, and only that name is read. docs/design.md "MFA", "Public contract"; RFC 6265bis §4.1.3.2.
import { beginEnrollment, confirmEnrollment, totpCodeAt } from '@tessera/auth/mfa';
import {
  principalFromToken,
  signUpOwner,
  STRONG_PASSWORD,
  testServices,
} from '@tessera/api-contract/testing';
import { withTenant } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

const db = useTestDatabase();
const services = testServices();
const publicUrl = 'https://tessera.example';
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer(
    { ...defaultApiConfig, publicUrl, logLevel: 'silent' },
    { database: db.app, services },
  );
});
afterAll(async () => app.close());

/** An owner with TOTP, signed in with the password: a pending challenge and its secret. */
async function pendingChallenge(): Promise<{ challengeToken: string; secret: string }> {
  const owner = await signUpOwner(db.app, { services });
  const principal = await principalFromToken(db.app, owner.token);
  const who = {
    tenantId: owner.tenant.id,
    userId: owner.user.id,
    sessionId: principal?.kind === 'session' ? principal.sessionId : '',
  };
  const then = new Date(Date.now() - 60_000); // two TOTP steps back, so the current code is fresh
  const { secret } = await withTenant(db.app, who.tenantId, (tx) =>
    beginEnrollment(tx, { actor: who, deps: services.accounts, now: then }),
  );
  await withTenant(db.app, who.tenantId, (tx) =>
    confirmEnrollment(
      tx,
      {
        deps: services.accounts,
        actor: who,
        request: { ip: '203.0.113.9', userAgent: 'vitest' },
        now: then,
      },
      totpCodeAt(secret, then),
    ),
  );
  const res = await app.inject({
    method: 'POST',
    url: '/trpc/auth.signIn',
    headers: { 'content-type': 'application/json', origin: publicUrl },
    payload: { tenantSlug: owner.tenant.slug, email: owner.user.email, password: STRONG_PASSWORD },
  });
  const data = res.json<{ result: { data: { status: string; challengeToken: string } } }>().result
    .data;
  expect(data.status).toBe('mfa_required');
  return { challengeToken: data.challengeToken, secret };
}

function verifyWithCookie(cookie: string, code: string) {
  return app.inject({
    method: 'POST',
    url: '/trpc/auth.verifyMfa',
    headers: { 'content-type': 'application/json', origin: publicUrl, cookie },
    payload: { code },
  });
}

test('off localhost, auth.verifyMfa reads the challenge from __Host-tessera_mfa_challenge and ignores an unprefixed one', async () => {
  const { challengeToken, secret } = await pendingChallenge();
  const tossed = await verifyWithCookie(
    `tessera_mfa_challenge=${challengeToken}`,
    totpCodeAt(secret, new Date()),
  );
  expect(tossed.statusCode).toBeGreaterThanOrEqual(400); // no challenge read at all
  expect(tossed.headers['set-cookie']).toBeUndefined();
  const res = await verifyWithCookie(
    `__Host-tessera_mfa_challenge=${challengeToken}`,
    totpCodeAt(secret, new Date()),
  );
  expect(res.statusCode, res.body).toBe(200);
  expect(String(res.headers['set-cookie'])).toMatch(/__Host-tessera_session=/);
});
