/**
 * One GDPR job per request at a time, across any number of workers (docs/design.md "Jobs and backups").
 * pg-boss 10 has no heartbeat, only an expiry, so the queue alone cannot tell a slow worker from
 * a dead one. Each job therefore holds a session-level advisory lock on the request id, on a
 * connection of its own for the whole run: a killed worker's lock dies with its connection, and a
 * second worker for the same request gets `null` at once and leaves the request to the first.
 */
import type { Database } from '@tessera/db';

const LOCK_CLASS = 0x7e55_9d01; // "tessera privacy jobs": keeps these keys apart from other advisory locks

/** Runs `work` while holding the request's advisory lock; null when another session holds it. */
export async function withGdprJobLock<T>(
  database: Pick<Database, 'pool'>,
  requestId: string,
  work: () => Promise<T>,
): Promise<T | null> {
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    // Two-int4 form: (class, hash of the uuid). A hash collision only serialises two jobs.
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_catalog.pg_try_advisory_lock($1::int4, pg_catalog.hashtext($2)) AS locked',
      [LOCK_CLASS | 0, requestId],
    );
    if (rows[0]?.locked !== true) return null;
    try {
      return await work();
    } finally {
      await client
        .query('SELECT pg_catalog.pg_advisory_unlock($1::int4, pg_catalog.hashtext($2))', [
          LOCK_CLASS | 0,
          requestId,
        ])
        .catch((error: unknown) => {
          broken = error instanceof Error ? error : new Error('advisory unlock failed');
        });
    }
  } finally {
    // A connection whose unlock failed is destroyed, never reused: its lock dies with it.
    client.release(broken ?? false);
  }
}
