/**
 * Test support for the SSO security tests: a real OpenID Provider (`oidc-provider`) on
 * 127.0.0.1:<random>, a browser-like cookie jar, and a redirect follower over real HTTP. The IdP's
 * login interaction is completed by submitting a login form (custom interaction handler: the
 * test chooses the account and, optionally, the `amr` the provider asserts). No internet.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from '@tessera/db/testing';
import Provider, { type ClientMetadata } from 'oidc-provider';

export interface IdpAccount {
  email: string;
  emailVerified: boolean;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  accounts: Map<string, IdpAccount>;
  close(): Promise<void>;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The login form's submission: login and consent in one step, with the `amr` the test chose. */
async function submitLogin(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const form = await formBody(req);
  const details = await provider.interactionDetails(req, res);
  const accountId = form.get('login') ?? '';
  const grant = new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
  grant.addOIDCScope(String(details.params['scope']));
  const amr = form.get('amr')?.split(',').filter(Boolean);
  await provider.interactionFinished(
    req,
    res,
    {
      login: { accountId, ...(amr?.length ? { amr } : {}) },
      consent: { grantId: await grant.save() },
    },
    { mergeWithLastSubmission: false },
  );
}

export async function startTestIdp(clients: ClientMetadata[]): Promise<TestIdp> {
  const accounts = new Map<string, IdpAccount>();
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const issuer = `http://127.0.0.1:${address.port}`;
  const provider = new Provider(issuer, {
    clients,
    cookies: { keys: ['test-only-cookie-key-0123456789abcdef'] },
    claims: {
      acr: null,
      amr: null,
      sid: null,
      auth_time: null,
      iss: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
    },
    features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: account.email,
          email_verified: account.emailVerified,
          name: account.name ?? sub,
        }),
      };
    },
  });
  const oidc = provider.callback();
  handler = (req, res) => {
    if (/^\/interaction\/[\w-]+$/.test(req.url ?? '')) {
      res.setHeader('content-type', 'text/html');
      res.end('<form method="post" action="login"><input name="login"><input name="amr"></form>');
    } else if (/^\/interaction\/[\w-]+\/login$/.test(req.url ?? '') && req.method === 'POST') {
      submitLogin(provider, req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    } else {
      void oidc(req, res);
    }
  };
  return {
    issuer,
    accounts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Cookies per host name (ports share them, as in browsers); path and expiry as far as tests need. */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();

  header(url: string): string {
    const jar = this.#cookies.get(new URL(url).hostname);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  store(url: string, response: Response): void {
    const host = new URL(url).hostname;
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    this.#cookies.set(host, jar);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some(
        (a) =>
          /^\s*max-age=0\s*$/i.test(a) ||
          (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()),
      );
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  set(host: string, name: string, value: string): void {
    const jar = this.#cookies.get(host) ?? new Map<string, string>();
    this.#cookies.set(host, jar.set(name, value));
  }

  get(host: string, name: string): string | undefined {
    return this.#cookies.get(host)?.get(name);
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [host, jar] of this.#cookies) copy.#cookies.set(host, new Map(jar));
    return copy;
  }
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

/** Follows redirects like a browser (GET), until a non-redirect or `stop(url)` says so. */
export async function browse(
  start: string,
  jar: CookieJar,
  stop: (url: string) => boolean = () => false,
  init: RequestInit = {},
): Promise<{ url: string; response: Response; hops: Hop[] }> {
  let url = start;
  let request: RequestInit = init;
  const hops: Hop[] = [];
  for (let i = 0; i < 20; i += 1) {
    const response = await fetch(url, {
      ...request,
      redirect: 'manual',
      headers: {
        ...(request.headers as Record<string, string> | undefined),
        cookie: jar.header(url),
      },
    });
    jar.store(url, response);
    const location = response.headers.get('location');
    hops.push({ url, status: response.status, location });
    if (response.status < 300 || response.status >= 400 || !location)
      return { url, response, hops };
    await response.body?.cancel();
    url = new URL(location, url).href;
    request = {};
    if (stop(url)) return { url, response, hops };
  }
  throw new Error('too many redirects');
}

/** The whole rig of one test file: Tessera over real HTTP with the SSO plugin, and the IdP. */
export interface SsoHarness {
  origin: string;
  idp: TestIdp;
  /** Client secret per client id registered at the IdP. */
  secrets: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Registers one IdP client per entry of `clients` (client id -> tenant slugs whose callback it
 * may use), builds the server with `build(origin)` and listens on 127.0.0.1.
 */
export async function startSsoHarness(
  clients: Record<string, readonly string[]>,
  build: (
    origin: string,
    issuer: string,
  ) => Promise<{
    listen(o: { port: number; host: string }): Promise<string>;
    close(): Promise<void>;
  }>,
): Promise<SsoHarness> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const secrets = Object.fromEntries(
    Object.keys(clients).map((id) => [id, `${id}-secret-0123456789abcdef`]),
  );
  const idp = await startTestIdp(
    Object.entries(clients).map(([clientId, slugs]) => ({
      client_id: clientId,
      client_secret: secrets[clientId] ?? '',
      redirect_uris: slugs.map((slug) => `${origin}/auth/callback/tenant-${slug}`),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
  );
  const app = await build(origin, idp.issuer);
  await app.listen({ port, host: '127.0.0.1' });
  return {
    origin,
    idp,
    secrets,
    close: async () => {
      await app.close();
      await idp.close();
    },
  };
}

/** Start at Tessera, log in at the IdP as `login`; stops at Tessera's callback when asked. */
export async function ssoSignIn(
  h: SsoHarness,
  slug: string,
  login: string,
  options: { amr?: string; stopAtCallback?: boolean; jar?: CookieJar; provider?: string } = {},
): Promise<{ jar: CookieJar; url: string; hops: Hop[] }> {
  const jar = options.jar ?? new CookieJar();
  const query = options.provider ? `?provider=${options.provider}` : '';
  const atIdp = await browse(
    `${h.origin}/auth/sso/${slug}/start${query}`,
    jar,
    (url) => url.startsWith(`${h.origin}/`) && !url.startsWith(`${h.origin}/auth/`),
  );
  if (!atIdp.url.startsWith(`${h.idp.issuer}/interaction/`))
    return { jar, url: atIdp.url, hops: atIdp.hops };
  const stop = (url: string): boolean =>
    url.startsWith(`${h.origin}/`) &&
    (options.stopAtCallback
      ? url.startsWith(`${h.origin}/auth/callback/`)
      : !url.startsWith(`${h.origin}/auth/`));
  const done = await browse(`${atIdp.url}/login`, jar, stop, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, amr: options.amr ?? '' }).toString(),
  });
  return { jar, url: done.url, hops: [...atIdp.hops, ...done.hops] };
}

/** Follows a (possibly edited) callback URL with the given cookies to the console landing. */
export async function deliverCallback(h: SsoHarness, url: string, jar: CookieJar): Promise<string> {
  const result = await browse(
    url,
    jar,
    (next) => next.startsWith(`${h.origin}/`) && !next.startsWith(`${h.origin}/auth/`),
  );
  return result.url;
}
