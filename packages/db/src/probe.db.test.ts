import { describe, expect, test } from 'vitest';
import { createDatabase } from './client.js';
import { PROBE_TTL_MS, probeDatabase } from './probe.js';
import { useTestDatabase } from './testing/index.js';

const t = useTestDatabase();

describe('database probe', () => {
  test('a burst of probes sends one SELECT 1 and a probe after the TTL sends the next', async () => {
    const database = createDatabase(t.appUrl, { max: 2, applicationName: 'tessera-test-probe' });
    try {
      let queries = 0;
      const query = database.pool.query.bind(database.pool);
      database.pool.query = ((...args: Parameters<typeof query>) => {
        queries += 1;
        return query(...args);
      }) as typeof database.pool.query;
      const now = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => probeDatabase(database, now)),
      );
      expect(new Set(answers)).toEqual(new Set(['ok']));
      expect(queries).toBe(1);
      await probeDatabase(database, now + PROBE_TTL_MS - 1);
      expect(queries).toBe(1);
      expect(await probeDatabase(database, now + PROBE_TTL_MS)).toBe('ok');
      expect(queries).toBe(2);
      // A clock stepped back does not keep serving the old answer.
      await probeDatabase(database, now - 5 * PROBE_TTL_MS);
      expect(queries).toBe(3);
    } finally {
      await database.close();
    }
  });

  test('a database that does not answer is reported unreachable', async () => {
    const gone = createDatabase('postgres://nobody:nothing@127.0.0.1:1/none', {
      max: 1,
      connectionTimeoutMs: 500,
    });
    try {
      expect(await probeDatabase(gone)).toBe('unreachable');
    } finally {
      await gone.close();
    }
  });
});
