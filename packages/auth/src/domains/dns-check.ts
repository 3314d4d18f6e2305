/**
 * The DNS side of domain verification: Node's own resolver (`dns.promises.Resolver`, c-ares), on
 * the servers configured for it or the system's. Only an answer counts: a name without the record
 * (NXDOMAIN, no TXT, other TXT values) is `absent`; a timeout, SERVFAIL or refused query is
 * `unreachable` and decides nothing, so a DNS outage neither verifies nor suspends a domain.
 */
import { promises as dns } from 'node:dns';
import { verificationRecord } from '../shared/domain-name.js';

export interface DomainDnsOptions {
  /** Resolver addresses (`ip` or `ip:port`, `[ipv6]:port`); absent: the system's resolvers. */
  servers?: readonly string[] | undefined;
  /** Per query attempt (default 5000 ms, two attempts). */
  timeoutMs?: number | undefined;
}

export type RecordCheck = 'present' | 'absent' | 'unreachable';

/** What the verifier needs from DNS; `createTxtLookup` is the real one. */
export type TxtLookup = (name: string) => Promise<string[][]>;

export function createTxtLookup(options: DomainDnsOptions = {}): TxtLookup {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs ?? 5000, tries: 2 });
  if (options.servers && options.servers.length > 0) resolver.setServers([...options.servers]);
  return (name) => resolver.resolveTxt(name);
}

const ABSENT: ReadonlySet<string> = new Set([dns.NODATA, dns.NOTFOUND]);

export async function checkVerificationRecord(
  lookup: TxtLookup,
  domain: string,
  token: string,
): Promise<RecordCheck> {
  const expected = verificationRecord(domain, token);
  try {
    // RFC 7208 §3.3 style: a TXT record split into several strings is read as their concatenation.
    const records = await lookup(expected.name);
    return records.some((chunks) => chunks.join('').trim() === expected.value)
      ? 'present'
      : 'absent';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && ABSENT.has(code) ? 'absent' : 'unreachable';
  }
}
