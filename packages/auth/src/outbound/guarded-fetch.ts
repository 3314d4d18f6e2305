/**
 * The only way Tessera calls a tenant-chosen URL (OIDC discovery, token and userinfo endpoints).
 *
 * Guarantees (docs/design.md "Secrets", outbound URLs): the scheme rule is checked on every request URL
 * (oauth4webapi is run with `allowInsecureRequests` by @auth/core 0.41, so it checks nothing);
 * IP literals are classified here and host names inside the connection's lookup (guardedLookup),
 * so the address checked is the address connected to; redirects are never followed (`manual`,
 * and a 3xx is answered as an error), so a redirect cannot lead to a forbidden address; every
 * request has a timeout. Pinned by outbound-url.test.ts and the SSO security tests.
 */
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  addressesAllowed,
  guardedLookup,
  hostOf,
  OutboundUrlError,
  parseOutboundUrl,
  type OutboundPolicy,
} from './outbound-url.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface GuardedFetchOptions {
  /** Connect, headers, body and overall timeout (default 5 s). */
  timeoutMs?: number;
  userAgent?: string;
}

export function createGuardedFetch(
  policy: OutboundPolicy,
  options: GuardedFetchOptions = {},
): FetchLike {
  const agent = new Agent({
    connect: { lookup: guardedLookup(policy), timeout: options.timeoutMs ?? 5_000 },
    headersTimeout: options.timeoutMs ?? 5_000,
    bodyTimeout: options.timeoutMs ?? 5_000,
  });
  return async (input, init = {}) => {
    const url = parseOutboundUrlForFetch(String(input), policy);
    const host = hostOf(url);
    if (ipaddr.isValid(host)) addressesAllowed([host], policy, host);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    if (options.userAgent) headers['user-agent'] = options.userAgent;
    const response = await undiciFetch(url, {
      method: init.method ?? 'GET',
      headers,
      body: init.body as never,
      redirect: 'manual',
      signal: init.signal ?? AbortSignal.timeout(options.timeoutMs ?? 5_000),
      dispatcher: agent,
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new OutboundUrlError('redirects are not followed');
    }
    return response;
  };
}

/** Endpoint URLs may carry a query (some token endpoints do); the scheme and credential rules stay. */
function parseOutboundUrlForFetch(raw: string, policy: OutboundPolicy): URL {
  const url = new URL(raw);
  const bare = new URL(url.href);
  bare.search = '';
  bare.hash = '';
  parseOutboundUrl(bare.href, policy);
  return url;
}
