/**
 * Is the database answering? One `SELECT 1` per pool per second at most, however many health
 * checks arrive: concurrent and repeated callers within a second share the same answer. A probe
 * that gets no answer within two seconds reports 'unreachable' (a hung connection never hangs a
 * health check).
 */
import type pg from 'pg';

export type ProbeAnswer = 'ok' | 'unreachable';

/** How long one probe's answer is reused. */
export const PROBE_TTL_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;

const probes = new WeakMap<pg.Pool, { at: number; answer: Promise<ProbeAnswer> }>();

export function probeDatabase(
  database: { readonly pool: pg.Pool },
  now: number = Date.now(),
): Promise<ProbeAnswer> {
  const last = probes.get(database.pool);
  if (last && now - last.at < PROBE_TTL_MS && now >= last.at) return last.answer;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'unreachable'>(
    (resolve) => (timer = setTimeout(() => resolve('unreachable'), PROBE_TIMEOUT_MS)),
  );
  const query = database.pool.query('SELECT 1').then(
    (): ProbeAnswer => 'ok',
    (): ProbeAnswer => 'unreachable',
  );
  const answer = Promise.race([query, timeout]).finally(() => clearTimeout(timer));
  probes.set(database.pool, { at: now, answer });
  return answer;
}
