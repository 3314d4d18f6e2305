import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { expect, test } from 'vitest';
import { deviceCookieJar, deviceCookieName, sessionCookieName } from './session-cookie.js';

test('the device cookie is named like the session cookie: tessera_device on http://localhost, __Host- elsewhere', () => {
  expect(deviceCookieName(sessionCookieName('http://localhost:3000'))).toBe('tessera_device');
  expect(deviceCookieName(sessionCookieName('https://auth.example.com'))).toBe(
    '__Host-tessera_device',
  );
});

test('the device cookie jar reads the request cookie and sets an httpOnly, Secure, SameSite=Lax cookie on Path=/', async () => {
  const app = Fastify();
  await app.register(cookie);
  app.post('/remember', (request, reply) => {
    const jar = deviceCookieJar(request, reply, '__Host-tessera_session');
    jar.set('new-device-token', new Date('2030-01-01T00:00:00Z'));
    return { seen: jar.token ?? null };
  });
  const response = await app.inject({
    method: 'POST',
    url: '/remember',
    headers: { cookie: '__Host-tessera_device=old-token' },
  });
  expect(response.json()).toEqual({ seen: 'old-token' });
  const header = String(response.headers['set-cookie']);
  expect(header).toMatch(/^__Host-tessera_device=new-device-token;/);
  expect(header).toMatch(/HttpOnly/);
  expect(header).toMatch(/Secure/);
  expect(header).toMatch(/SameSite=Lax/);
  expect(header).toMatch(/Path=\//);
  expect(header).toMatch(/Expires=Tue, 01 Jan 2030/);
  await app.close();
});
