import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Fastify from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { describe, expect, test } from 'vitest';
import { routeConfigPlugin } from './route-config.js';
import {
  dataSecurityHeadersOf,
  securityHeadersOf,
  securityHeadersPlugin,
} from './security-headers.js';

const OPTIONS: HelmetOptions[] = [
  {},
  {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  },
  { hsts: { maxAge: 31_536_000, includeSubDomains: true }, crossOriginEmbedderPolicy: true },
];

/** What helmet's own middleware leaves on a real node:http response. */
function helmetOnRealResponse(options: HelmetOptions): Record<string, string> {
  const request = new IncomingMessage(new Socket());
  const response = new ServerResponse(request);
  response.setHeader('X-Powered-By', 'something');
  helmet(options)(request, response, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet failed');
  });
  return Object.fromEntries(
    Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]),
  );
}

describe('security headers computed once', () => {
  test.each(OPTIONS)('equal what helmet writes on a real response (%#)', (options) => {
    expect(securityHeadersOf(options)).toEqual(helmetOnRealResponse(options));
  });

  test('every response carries them, a 404 too', async () => {
    const app = Fastify();
    await app.register(routeConfigPlugin);
    await app.register(securityHeadersPlugin, { helmet: OPTIONS[1] as HelmetOptions });
    app.get('/x', async () => ({ ok: true }));
    for (const url of ['/x', '/missing']) {
      const res = await app.inject({ url });
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    await app.close();
  });

  test('a data route gets the API set, a document (or no route) the document set, each with a request id', async () => {
    const helmetOptions: HelmetOptions = {
      contentSecurityPolicy: {
        directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] },
      },
      hsts: { maxAge: 31_536_000, includeSubDomains: true },
    };
    const documents = securityHeadersOf(helmetOptions);
    const app = Fastify();
    await app.register(routeConfigPlugin);
    await app.register(securityHeadersPlugin, { helmet: helmetOptions });
    app.get('/data', { config: { answers: 'data' } }, async () => ({ ok: true }));
    app.get('/trpc-like', { config: { trpc: { pathParam: 'path' } } }, async () => ({ ok: true }));
    app.get('/page', async (_request, reply) => reply.type('text/html').send('<p>hi</p>'));
    const api = dataSecurityHeadersOf(documents);
    expect(api).toEqual({
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    const ids = new Set<string>();
    for (const [url, expected, absent] of [
      ['/data', api, 'cross-origin-opener-policy'],
      ['/trpc-like', api, 'origin-agent-cluster'],
      ['/page', documents, null],
      ['/%64ata', api, 'cross-origin-opener-policy'], // the matched route decides, not the spelling
      ['/missing', documents, null],
    ] as const) {
      const res = await app.inject({ url, headers: { 'x-request-id': 'client-chosen' } });
      for (const [name, value] of Object.entries(expected)) expect(res.headers[name]).toBe(value);
      if (absent) expect(res.headers[absent]).toBeUndefined();
      expect(res.headers['x-request-id']).toMatch(/^\S+$/);
      expect(res.headers['x-request-id']).not.toBe('client-chosen');
      ids.add(String(res.headers['x-request-id']));
    }
    expect(ids.size).toBe(5);
    await app.close();
  });
});
