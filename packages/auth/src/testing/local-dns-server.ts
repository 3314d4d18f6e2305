/**
 * A real DNS server on 127.0.0.1 (the `dns2` package, UDP) for the domain verification tests: the
 * test publishes and withdraws TXT records, or makes a name fail with SERVFAIL, and points Node's
 * resolver at `server` (`createTxtLookup({ servers: [server] })`). Unknown names answer NXDOMAIN;
 * a known name without TXT records answers NOERROR with no data, as a real zone does.
 */
import dns2 from 'dns2';

const { Packet } = dns2;
type Answer = InstanceType<typeof Packet>['answers'][number];
/** RFC 1035 §4.1.1 response codes (dns2 3.0's typings do not declare its Packet.RCODE). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;

export interface LocalDnsServer {
  /** `127.0.0.1:<port>`, for `createTxtLookup({ servers })` or `dns.Resolver#setServers`. */
  server: string;
  /** Adds a TXT record (one string) at `name`. */
  publishTxt(name: string, value: string): void;
  /** Removes the TXT record `value` at `name`, or every TXT record there. */
  withdraw(name: string, value?: string): void;
  /** Queries for `name` answer SERVFAIL until `recover(name)`. */
  fail(name: string): void;
  recover(name: string): void;
  /** Queries answered so far, by lower-case name. */
  queries: string[];
  close(): Promise<void>;
}

export async function startLocalDnsServer(): Promise<LocalDnsServer> {
  const txt = new Map<string, string[]>();
  const failing = new Set<string>();
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = (question?.name ?? '').toLowerCase().replace(/\.$/, '');
      queries.push(name);
      if (failing.has(name)) response.header.rcode = RCODE.SERVFAIL;
      else if (!txt.has(name)) response.header.rcode = RCODE.NXDOMAIN;
      else if (question?.type === Packet.TYPE.TXT)
        for (const data of txt.get(name) ?? [])
          // dns2 encodes a record from these fields; its typings also ask for a toBuffer it adds.
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 1,
            data,
          } as unknown as Answer);
      void send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = addresses.udp?.port;
  if (!port) throw new Error('the local DNS server did not report its port');
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
  return {
    server: `127.0.0.1:${port}`,
    publishTxt: (name, value) => txt.set(key(name), [...(txt.get(key(name)) ?? []), value]),
    withdraw: (name, value) =>
      txt.set(
        key(name),
        value === undefined ? [] : (txt.get(key(name)) ?? []).filter((v) => v !== value),
      ),
    fail: (name) => failing.add(key(name)),
    recover: (name) => failing.delete(key(name)),
    queries,
    close: () => server.close(),
  };
}
