import { createServer } from 'node:http';
import { describe, expect, test } from 'vitest';
import { createGuardedFetch } from './guarded-fetch.js';
import {
  checkOutboundUrl,
  classifyAddress,
  parseOutboundUrl,
  type OutboundPolicy,
} from './outbound-url.js';
import { parsePlatformProviders } from '../sso/platform-providers.js';

const production: OutboundPolicy = { mode: 'production' };
const development: OutboundPolicy = { mode: 'development' };
const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses;

describe('address classification', () => {
  test.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'forbidden'],
    ['172.16.5.4', 'forbidden'],
    ['192.168.1.1', 'forbidden'],
    ['169.254.169.254', 'forbidden'],
    ['100.64.0.1', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['::', 'forbidden'],
    ['fc00::1', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['::ffff:10.0.0.1', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['2002:a00:1::', 'forbidden'],
    ['not-an-ip', 'forbidden'],
  ])('%s is %s', (address, verdict) => {
    expect(classifyAddress(address)).toBe(verdict);
  });
});

describe('IPv6 forms that carry an IPv4 address', () => {
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291 §2.5.5.1) and IPv4-mapped (::ffff:a.b.c.d)
  // addresses are judged as the IPv4 address they carry; WHATWG URL parsing turns [::10.0.0.1]
  // into [::a00:1], so both spellings must land on the same verdict.
  test.each([
    ['::a00:1', 'forbidden'],
    ['::10.0.0.1', 'forbidden'],
    ['0:0:0:0:0:0:a00:1', 'forbidden'],
    ['::a9fe:a9fe', 'forbidden'],
    ['::c0a8:101', 'forbidden'],
    ['::6440:1', 'forbidden'],
    ['::127.0.0.1', 'loopback'],
    ['::7f00:1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a00:1', 'forbidden'],
    ['::ffff:169.254.169.254', 'forbidden'],
    ['::808:808', 'public'],
    ['::8.8.8.8', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    // Transition ranges stay refused whatever they embed (NAT64 RFC 6052/8215, 6to4, Teredo).
    ['64:ff9b::a00:1', 'forbidden'],
    ['64:ff9b::10.0.0.1', 'forbidden'],
    ['64:ff9b::7f00:1', 'forbidden'],
    ['64:ff9b:1::a00:1', 'forbidden'],
    ['2002:a00:1::1', 'forbidden'],
    ['2002:7f00:1::1', 'forbidden'],
    ['2001:0:a00:1::1', 'forbidden'],
    ['::ffff:0:a00:1', 'forbidden'],
    // Genuinely public IPv6 stays public.
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
  ])('%s is %s', (address, verdict) => {
    expect(classifyAddress(address)).toBe(verdict);
  });

  test('a URL or a DNS answer spelling a private IPv4 address as IPv4-compatible IPv6 is refused', async () => {
    const warned: string[] = [];
    const dev: OutboundPolicy = { mode: 'development', onLoopback: (host) => warned.push(host) };
    for (const raw of [
      'http://[::a00:1]/',
      'http://[::10.0.0.1]/',
      'http://[::a9fe:a9fe]/latest/meta-data',
    ]) {
      await expect(checkOutboundUrl(raw, dev, 'url'), raw).rejects.toMatchObject({
        code: 'invalid_input',
        field: 'url',
      });
    }
    await expect(checkOutboundUrl('https://[::a00:1]/', production, 'url')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(checkOutboundUrl('https://[::7f00:1]/', production, 'url')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(
      checkOutboundUrl('https://hook.example.com', production, 'url', resolvesTo('::a00:1')),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(
      checkOutboundUrl('http://[::127.0.0.1]:9000/', dev, 'url'),
    ).resolves.toBeInstanceOf(URL);
    expect(warned).toEqual(['::7f00:1']);
  });
});

describe('the outbound URL rule for issuers', () => {
  test('production accepts only https, without credentials, query or fragment', () => {
    expect(parseOutboundUrl('https://login.example.com/tenant/v2.0', production).href).toBe(
      'https://login.example.com/tenant/v2.0',
    );
    for (const bad of [
      'http://login.example.com',
      'https://u:p@login.example.com',
      'https://login.example.com/?a=1',
      'https://login.example.com/#x',
      'ftp://x',
      'nonsense',
    ]) {
      expect(() => parseOutboundUrl(bad, production), bad).toThrow();
    }
    expect(parseOutboundUrl('http://127.0.0.1:8080', development).protocol).toBe('http:');
  });

  test('an issuer whose name resolves to a private or loopback address is refused in production, after DNS', async () => {
    await expect(
      checkOutboundUrl(
        'https://idp.example.com',
        production,
        'issuer',
        resolvesTo('93.184.216.34'),
      ),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      checkOutboundUrl(
        'https://idp.example.com',
        production,
        'issuer',
        resolvesTo('93.184.216.34', '10.1.2.3'),
      ),
    ).rejects.toMatchObject({ code: 'invalid_input', field: 'issuer' });
    await expect(
      checkOutboundUrl('https://rebind.example.com', production, 'issuer', resolvesTo('127.0.0.1')),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(checkOutboundUrl('https://[::1]', production, 'issuer')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(
      checkOutboundUrl('https://nowhere.invalid', production, 'issuer', async () => {
        throw new Error('ENOTFOUND');
      }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  test('development allows loopback with a warning, but still no private ranges', async () => {
    const warned: string[] = [];
    const dev: OutboundPolicy = { mode: 'development', onLoopback: (host) => warned.push(host) };
    await expect(
      checkOutboundUrl('http://localhost:9000', dev, 'issuer', resolvesTo('127.0.0.1')),
    ).resolves.toBeInstanceOf(URL);
    expect(warned).toEqual(['localhost']);
    await expect(
      checkOutboundUrl('http://idp.lan', dev, 'issuer', resolvesTo('192.168.0.10')),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('the guarded fetch', () => {
  test('refuses loopback in production (literal and by name), never follows redirects, and works in development', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/hop') res.writeHead(302, { location: 'http://10.0.0.1/' }).end();
      else res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(createGuardedFetch(production)(`https://127.0.0.1:${port}/`)).rejects.toThrow(
        /loopback/,
      );
      await expect(createGuardedFetch(production)(`http://127.0.0.1:${port}/`)).rejects.toThrow(
        /https/,
      );
      // A host name is checked inside the socket's own lookup: what is checked is what is connected to.
      await expect(
        createGuardedFetch(production)(`https://localhost:${port}/`),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/loopback/) } });
      const byName = createGuardedFetch({
        mode: 'development',
        onLoopback: () => {
          throw new Error('checked at connect time');
        },
      });
      await expect(byName(`http://localhost:${port}/`)).rejects.toMatchObject({
        cause: { message: 'checked at connect time' },
      });
      const devFetch = createGuardedFetch(development);
      expect(await (await devFetch(`http://127.0.0.1:${port}/`)).json()).toEqual({ ok: true });
      await expect(devFetch(`http://127.0.0.1:${port}/hop`)).rejects.toThrow(/redirects/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('platform-wide providers from configuration', () => {
  const env = {
    SSO_PROVIDERS: 'google, entra-id',
    SSO_GOOGLE_ISSUER: 'https://accounts.google.com',
    SSO_GOOGLE_CLIENT_ID: 'g-id',
    SSO_GOOGLE_CLIENT_SECRET: 'g-secret',
    SSO_GOOGLE_NAME: 'Google',
    SSO_ENTRA_ID_ISSUER: 'https://login.microsoftonline.com/x/v2.0',
    SSO_ENTRA_ID_CLIENT_ID: 'e-id',
    SSO_ENTRA_ID_CLIENT_SECRET_FILE: '/run/secrets/entra',
  };

  test('parses ids, names and secrets (also from _FILE)', () => {
    const providers = parsePlatformProviders(env, 'production', () => 'e-secret\n');
    expect(providers).toEqual([
      {
        id: 'google',
        name: 'Google',
        issuer: 'https://accounts.google.com',
        clientId: 'g-id',
        clientSecret: 'g-secret',
      },
      {
        id: 'entra-id',
        name: 'entra-id',
        issuer: 'https://login.microsoftonline.com/x/v2.0',
        clientId: 'e-id',
        clientSecret: 'e-secret',
      },
    ]);
    expect(parsePlatformProviders({}, 'production', () => '')).toEqual([]);
  });

  test('errors name the variables, never their values', () => {
    const attempts: [Record<string, string>, string][] = [
      [{ ...env, SSO_PROVIDERS: 'tenant' }, 'SSO_PROVIDERS'],
      [{ ...env, SSO_GOOGLE_ISSUER: 'http://accounts.google.com' }, 'SSO_GOOGLE_ISSUER'],
      [{ ...env, SSO_GOOGLE_CLIENT_SECRET: '' }, 'SSO_GOOGLE_CLIENT_SECRET'],
    ];
    for (const [broken, variable] of attempts) {
      try {
        parsePlatformProviders(broken, 'production', () => 'e-secret');
        expect.unreachable();
      } catch (error) {
        expect((error as { variables: string[] }).variables).toContain(variable);
        expect((error as Error).message).not.toMatch(/g-secret|e-secret/);
      }
    }
  });
});
