/**
 * Outbound URL rule (docs/design.md "Secrets": webhooks, tenant SSO issuers). Production: https only, and
 * every address the host name resolves to must be public unicast (no loopback, link-local,
 * private, CGNAT, unique-local, multicast, reserved or transition ranges). Development also
 * allows http and loopback, with a warning; private ranges stay refused there too.
 *
 * Guarantees: `checkOutboundUrl` validates a URL given by a tenant before it is stored;
 * `guardedLookup` runs the same address rule inside the connection's own DNS lookup
 * (guarded-fetch.ts), so a name that re-resolves to 127.0.0.1 after the first check (DNS
 * rebinding) is refused at connect time. IP literals never reach a lookup and are checked here.
 *
 * Callers must not: fetch a tenant-supplied URL with plain `fetch`. Pinned by outbound-url.test.ts.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { AuthError } from '../errors.js';

export type OutboundMode = 'production' | 'development';

export interface OutboundPolicy {
  mode: OutboundMode;
  /** Called when development lets a loopback address through (log a warning). */
  onLoopback?: (host: string) => void;
}

export type AddressVerdict = 'public' | 'loopback' | 'forbidden';

/**
 * Classifies one resolved address. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible
 * (`::a.b.c.d`, RFC 4291 §2.5.5.1; URL parsing writes `[::10.0.0.1]` as `[::a00:1]`) IPv6 are
 * judged as the IPv4 address they carry. Other transition ranges (NAT64, 6to4, Teredo) are
 * refused whatever they embed: they are not unicast to ipaddr.js.
 */
export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return 'forbidden';
  const range = embeddedIPv4(ipaddr.parse(address)).range();
  if (range === 'loopback') return 'loopback';
  return range === 'unicast' ? 'public' : 'forbidden';
}

function embeddedIPv4(parsed: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (parsed.kind() === 'ipv4') return parsed;
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const [a, b, c, d, e, f, g, h] = v6.parts;
  // ::/96 less `::` and `::1`, which keep their own meaning (unspecified, loopback).
  const compatible =
    a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && (g !== 0 || (h ?? 0) > 1);
  return compatible ? ipaddr.fromByteArray(v6.toByteArray().slice(12)) : v6;
}

export class OutboundUrlError extends Error {
  override readonly name = 'OutboundUrlError';
}

/** The verdict for a set of addresses under a policy: every one must pass. */
export function addressesAllowed(
  addresses: readonly string[],
  policy: OutboundPolicy,
  host: string,
): void {
  if (addresses.length === 0) throw new OutboundUrlError('host resolves to no address');
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (verdict === 'forbidden')
      throw new OutboundUrlError('host resolves to a non-public address');
    if (verdict === 'loopback') {
      if (policy.mode === 'production')
        throw new OutboundUrlError('host resolves to a loopback address');
      policy.onLoopback?.(host);
    }
  }
}

/** Syntax and scheme only (no DNS): absolute http(s), no credentials, no query or fragment. */
export function parseOutboundUrl(raw: string, policy: OutboundPolicy): URL {
  if (!URL.canParse(raw)) throw new OutboundUrlError('not a URL');
  const url = new URL(raw);
  const schemes = policy.mode === 'production' ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol))
    throw new OutboundUrlError(
      policy.mode === 'production' ? 'https is required' : 'http(s) is required',
    );
  if (url.username || url.password)
    throw new OutboundUrlError('credentials in the URL are not allowed');
  if (url.search || url.hash || raw.includes('#'))
    throw new OutboundUrlError('query and fragment are not allowed');
  return url;
}

/** Host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    );
  });

/**
 * Validates a URL a tenant wants Tessera to call: syntax, then the addresses its host resolves to.
 * Throws AuthError('invalid_input') with a safe detail; the resolved addresses are never echoed.
 */
export async function checkOutboundUrl(
  raw: string,
  policy: OutboundPolicy,
  field: string,
  resolve: Resolver = systemResolver,
): Promise<URL> {
  try {
    const url = parseOutboundUrl(raw, policy);
    const host = hostOf(url);
    const addresses = ipaddr.isValid(host)
      ? [host]
      : await resolve(host).catch(() => {
          throw new OutboundUrlError('host does not resolve');
        });
    addressesAllowed(addresses, policy, host);
    return url;
  } catch (error) {
    if (!(error instanceof OutboundUrlError)) throw error;
    throw new AuthError('invalid_input', {
      detail: `This URL is not allowed: ${error.message}.`,
      field,
      cause: error,
    });
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `net.connect` lookup that resolves, applies the address rule to every answer, and only then
 * hands the addresses to the socket: what is checked is what is connected to.
 */
export function guardedLookup(policy: OutboundPolicy) {
  return (
    hostname: string,
    options: { all?: boolean | undefined; family?: number | string | undefined },
    callback: LookupCallback,
  ): void => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, []);
      try {
        addressesAllowed(
          addresses.map((a) => a.address),
          policy,
          hostname,
        );
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, []);
      }
      const wanted =
        options.family === 4 || options.family === 6
          ? addresses.filter((a) => a.family === options.family)
          : addresses;
      if (options.all) return callback(null, wanted);
      const first = wanted[0];
      return first
        ? callback(null, first.address, first.family)
        : callback(new OutboundUrlError('no address of the requested family'), []);
    });
  };
}
