/**
 * The sign-in bench: sign-in throughput over HTTP against the raw Argon2id verify throughput of
 * this machine, and the server's event-loop p99 while 50 sign-ins run at once.
 */
import { defaultHashConcurrency, verifyPassword } from '@tessera/auth/passwords';
import { cpuShare, cpuSnapshot, type CpuShare } from './cpu.js';
import {
  CONNECTIONS,
  assertAllOk,
  benchPostmasterPid,
  measureOnce,
  type Measurement,
} from './load.js';
import type { LoadRequest } from './load-types.js';
import { BENCH_PASSWORD, type SignInAccount } from './seed.js';

/** The password service's queue concurrency (one hash per core, at most 4), for the raw figure too. */
export const VERIFY_CONCURRENCY = defaultHashConcurrency();
const VERIFY_SECONDS = 8;
const WARMUP_SIGN_INS = 24;

export interface RawVerify {
  perSecond: number;
  verifies: number;
  /** Mean wall time of one verify while VERIFY_CONCURRENCY run at once. */
  meanMs: number;
  cpu: CpuShare | null;
}

async function verifyFor(
  hash: string,
  seconds: number,
): Promise<{ count: number; elapsedMs: number }> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let count = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const { ok } = await verifyPassword({ hash, algorithm: 'argon2id' }, BENCH_PASSWORD);
      if (!ok) throw new Error('raw verify refused the bench password');
      count += 1;
    }
  };
  await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, lane));
  return { count, elapsedMs: performance.now() - started };
}

/** Argon2id verifies per second with VERIFY_CONCURRENCY in flight on the libuv threadpool. */
export async function rawVerifyThroughput(hash: string): Promise<RawVerify> {
  await verifyFor(hash, 1); // warm-up: threadpool started, memory touched
  const from = cpuSnapshot(benchPostmasterPid());
  const { count, elapsedMs } = await verifyFor(hash, VERIFY_SECONDS);
  const cpu = cpuShare(from, cpuSnapshot(benchPostmasterPid()));
  return {
    perSecond: (count * 1000) / elapsedMs,
    verifies: count,
    meanMs: (elapsedMs * VERIFY_CONCURRENCY) / count,
    cpu,
  };
}

/** POST auth.signIn as a browser's same-origin fetch would: JSON, no Origin from another site. */
export function signInRequests(accounts: readonly SignInAccount[]): LoadRequest[] {
  return accounts.map((account) => ({
    method: 'POST',
    path: '/trpc/auth.signIn',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      tenantSlug: account.tenantSlug,
      email: account.email,
      password: BENCH_PASSWORD,
    }),
  }));
}

/**
 * Warm-up that ends drained: sign-ins from this thread, VERIFY_CONCURRENCY at a time, all awaited.
 * (An autocannon warm-up would leave 50 sign-ins in flight, and 100 at once overflow the
 * password queue: 4 running + 64 waiting, then `rate_limited`.)
 */
async function warmUp(url: string, requests: readonly LoadRequest[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < WARMUP_SIGN_INS; i = next++) {
      const request = requests[i % requests.length] as LoadRequest;
      const response = await fetch(`${url}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body ?? null,
      });
      if (response.status !== 200)
        throw new Error(`warm-up sign-in answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, lane));
}

/**
 * 50 connections, each request a different account (one shared cursor), for 10 s. `requests` are
 * Tessera's (signInRequests) or the peer's; `name` labels a failure.
 */
export async function signInThroughput(
  url: string,
  requests: readonly LoadRequest[],
  name = 'sign-in',
): Promise<Measurement> {
  await warmUp(url, requests);
  const measurement = await measureOnce({
    url,
    connections: CONNECTIONS,
    requests: [...requests],
    rotate: 'global',
  });
  assertAllOk(name, measurement);
  // The 50 sign-ins cut off at the end still run; let them finish before anything else is measured.
  await new Promise((resolve) =>
    setTimeout(
      resolve,
      Math.min(15_000, 1000 + (CONNECTIONS * 1000) / Math.max(1, measurement.requestsPerSecond)),
    ),
  );
  return measurement;
}
