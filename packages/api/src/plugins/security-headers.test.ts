import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Fastify from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { describe, expect, test } from 'vitest';
import { securityHeadersOf, securityHeadersPlugin } from './security-headers.js';

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
});
