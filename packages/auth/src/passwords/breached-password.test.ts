import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createBreachedPasswordChecker } from './breached-password.js';
import type { BreachCheckFailure } from './breached-password.js';

// A local stand-in for api.pwnedpasswords.com speaking the range format: `SUFFIX:COUNT` lines,
// padded with count-0 entries. `slow` prefixes answer after 2 s.
const BREACHED = 'password123';
const PADDING_ONLY = 'only-a-padding-entry';
const SLOW = 'answered-too-late';

const sha1 = (text: string): string =>
  // eslint-disable-next-line tessera/no-weak-hash -- the test computes HIBP's SHA-1 keys to build its fake range answers
  createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();

const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
const timers = new Set<NodeJS.Timeout>();
let server: Server;
let baseUrl: string;

function rangeBody(prefix: string): string {
  const lines = ['0018A45C4D1DEF81644B54AB7F969B88D65:1', '00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0'];
  for (const [password, count] of [
    [BREACHED, 2_000],
    [PADDING_ONLY, 0],
  ] as const) {
    const digest = sha1(password);
    if (digest.startsWith(prefix)) lines.push(`${digest.slice(5)}:${count}`);
  }
  return lines.join('\r\n');
}

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    const prefix = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? '')?.[1];
    if (prefix === undefined) return void response.writeHead(400).end();
    const answer = (): void => void response.end(rangeBody(prefix));
    if (prefix !== sha1(SLOW).slice(0, 5)) return answer();
    timers.add(setTimeout(answer, 2_000));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
});

describe('the breached-password range check', () => {
  test('a password in the range answer is reported breached', async () => {
    const failures: BreachCheckFailure[] = [];
    const check = createBreachedPasswordChecker({ baseUrl, onError: (f) => failures.push(f) });
    expect(await check(BREACHED)).toBe(true);
    expect(failures).toEqual([]);
  });

  test('a password absent from the answer, or present only as padding, is not breached', async () => {
    const check = createBreachedPasswordChecker({ baseUrl });
    expect(await check('violet tractor umbrella minus')).toBe(false);
    expect(await check(PADDING_ONLY)).toBe(false);
  });

  test('only the 5-character SHA-1 prefix leaves the server, with padding asked for', async () => {
    const check = createBreachedPasswordChecker({ baseUrl });
    await check(BREACHED);
    await check('violet tractor umbrella minus');
    expect(requests.map((r) => r.url)).toEqual([
      `/range/${sha1(BREACHED).slice(0, 5)}`,
      `/range/${sha1('violet tractor umbrella minus').slice(0, 5)}`,
    ]);
    for (const { url, headers } of requests) {
      expect(url).toMatch(/^\/range\/[0-9A-F]{5}$/);
      expect(headers['add-padding']).toBe('true');
      const seen = `${url} ${JSON.stringify(headers)}`;
      for (const secret of [BREACHED, sha1(BREACHED), sha1(BREACHED).slice(5)]) {
        expect(seen).not.toContain(secret);
      }
    }
  });

  test('a slow server fails open within the timeout and reports the timeout', async () => {
    const failures: BreachCheckFailure[] = [];
    const check = createBreachedPasswordChecker({
      baseUrl,
      timeoutMs: 100,
      onError: (f) => failures.push(f),
    });
    const started = performance.now();
    expect(await check(SLOW)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.reason).toBe('timeout');
  });

  test('an unreachable or failing service fails open and reports why', async () => {
    const failures: BreachCheckFailure[] = [];
    const onError = (f: BreachCheckFailure): void => void failures.push(f);
    const down = createBreachedPasswordChecker({ baseUrl: 'http://127.0.0.1:1', onError });
    expect(await down(BREACHED)).toBe(false);
    const broken = createBreachedPasswordChecker({ baseUrl: `${baseUrl}/nope`, onError });
    expect(await broken(BREACHED)).toBe(false);
    expect(failures.map((f) => f.reason)).toEqual(['network', 'bad_status']);
    expect(failures[1]?.status).toBe(400);
  });

  test('an injected fetch is used, and a throwing onError does not break the check', async () => {
    const calls: string[] = [];
    const check = createBreachedPasswordChecker({
      fetch: async (input) => {
        calls.push(input instanceof Request ? input.url : input.toString());
        return new Response('not the range format');
      },
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(await check(BREACHED)).toBe(false);
    expect(calls).toEqual([`https://api.pwnedpasswords.com/range/${sha1(BREACHED).slice(0, 5)}`]);
  });
});
