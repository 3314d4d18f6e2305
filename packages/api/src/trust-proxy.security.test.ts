// Attacks on the client address behind reverse proxies: a hop count that trusts nobody (every
// client shares the proxy's address, so one abuser throttles everyone and audit rows and CIDR
// allowlists see only the proxy), and a client forging `X-Forwarded-For` to pick its own address.
// Real node:http proxies on distinct loopback addresses sit in front of the app over TCP.
// docs/design.md "Requests" (TRUST_PROXY); ASVS V7.1, V13.1.
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signUpOwner, STRONG_PASSWORD, testServices } from '@tessera/api-contract/testing';
import { useTestDatabase } from '@tessera/db/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { buildServer } from './build-server.js';
import { defaultApiConfig, type ApiConfig } from './config.js';

const db = useTestDatabase();
const services = testServices();
const CLIENT = '127.0.0.3';
const FORGED = '203.0.113.66';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

/** A reverse proxy on loopback that appends its peer's address to X-Forwarded-For and connects onward from `from`. */
async function proxy(target: string, from: string): Promise<string> {
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const forwarded = [incoming.headers['x-forwarded-for'], incoming.socket.remoteAddress]
      .filter(Boolean)
      .join(', ');
    const upstream = httpRequest(
      `${target}${incoming.url ?? '/'}`,
      {
        method: incoming.method,
        localAddress: from,
        headers: { ...incoming.headers, 'x-forwarded-for': forwarded },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function tessera(trustProxy: ApiConfig['trustProxy']): Promise<string> {
  const app = await buildServer(
    { ...defaultApiConfig, trustProxy, logLevel: 'silent' },
    { database: db.app, services },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** One client request from CLIENT's address, carrying a forged X-Forwarded-For of its own. */
function send(
  base: string,
  path: string,
  options: { method?: string; body?: unknown; cookie?: string } = {},
): Promise<{ status: number; body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'x-forwarded-for': FORGED,
      ...(options.cookie ? { cookie: options.cookie } : {}),
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest(
      `${base}${path}`,
      { method: options.method ?? 'GET', localAddress: CLIENT, headers },
      (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk: string) => (body += chunk))
          .on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body,
              setCookie: res.headers['set-cookie'] ?? [],
            }),
          );
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** Signs in through `base`; returns the address the session list and the audit row recorded. */
async function recordedAddresses(
  base: string,
): Promise<{ session: string | undefined; audit: string | undefined }> {
  const owner = await signUpOwner(db.app, { services });
  const signIn = await send(base, '/trpc/auth.signIn', {
    method: 'POST',
    body: { tenantSlug: owner.tenant.slug, email: owner.user.email, password: STRONG_PASSWORD },
  });
  expect(signIn.status, signIn.body).toBe(200);
  const cookie =
    signIn.setCookie.map((c) => c.split(';')[0]).find((c) => c?.startsWith('tessera_session=')) ??
    '';
  const list = await send(base, '/trpc/sessions.list', { cookie });
  const sessions = (
    JSON.parse(list.body) as { result: { data: { current: boolean; ipAddress: string | null }[] } }
  ).result.data;
  const { rows } = await db.owner.pool.query<{ ip: string }>(
    "SELECT ip FROM audit_logs WHERE tenant_id = $1 AND action = 'auth.sign_in.succeeded' ORDER BY seq DESC LIMIT 1",
    [owner.tenant.id],
  );
  return { session: sessions.find((s) => s.current)?.ipAddress ?? undefined, audit: rows[0]?.ip };
}

describe('TRUST_PROXY over real HTTP', () => {
  test('one trusted hop: the session list and the audit row hold the forwarded client, not the proxy or a forged address', async () => {
    const edge = await proxy(await tessera(1), '127.0.0.2');
    expect(await recordedAddresses(edge)).toEqual({ session: CLIENT, audit: CLIENT });
  });

  test('two trusted hops: the client seen by the outer proxy, past the inner one', async () => {
    const inner = await proxy(await tessera(2), '127.0.0.2');
    const outer = await proxy(inner, '127.0.0.4');
    expect(await recordedAddresses(outer)).toEqual({ session: CLIENT, audit: CLIENT });
  });

  test('unset: the socket address counts and a forged X-Forwarded-For is ignored', async () => {
    expect(await recordedAddresses(await tessera(false))).toEqual({
      session: CLIENT,
      audit: CLIENT,
    });
    const edge = await proxy(await tessera(false), '127.0.0.2');
    expect(await recordedAddresses(edge)).toEqual({ session: '127.0.0.2', audit: '127.0.0.2' });
  });
});
