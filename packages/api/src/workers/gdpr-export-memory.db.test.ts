// Bench: export time and peak RSS for a subject with 1,000, 10,000 and 100,000 audit
// events. Target: peak RSS grows by less than 50 MB from the smallest to the largest. Skipped in
// the normal run (it writes 100k audit events); run one format per process, e.g.
//   TESSERA_BENCH=1 TESSERA_BENCH_FORMATS=json npx vitest run packages/api/src/workers/gdpr-export-memory.db.test.ts
// (TESSERA_BENCH_SIZES=1000,10000 to shorten; PDF is measured up to 10k by default).
// Numbers are printed and recorded in docs/privacy.md; nothing here asserts a wall-clock time.
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { canonicalEvent, verifyAuditChain } from '@tessera/auth/audit';
import { createPrivacyRequest } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { handleExportJob } from './gdpr-export.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const MB = 1024 * 1024;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void; // a full collection before and after each export

test.skipIf(process.env['TESSERA_BENCH'] !== '1')(
  'export memory stays flat from 1k to 100k audit events',
  { timeout: 900_000 },
  async () => {
    const { id: tenantId } = await db.seedTenant();
    const userId = randomUUID();
    await db.withTenant(tenantId, (tx) =>
      tx.client.query(
        `INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, 'bench@example.com')`,
        [userId, tenantId],
      ),
    );
    const results: {
      events: number;
      format: string;
      seconds: number;
      megabytes: number;
      peakRssMb: number;
      rssGrowthMb: number;
      heapPeakGrowthMb: number;
      retainedMb: number;
    }[] = [];
    let written = 0;
    for (const events of (process.env['TESSERA_BENCH_SIZES'] ?? '1000,10000,100000')
      .split(',')
      .map(Number)) {
      // Seeded inside Postgres (audit_append in a loop, a valid chain) so the test process's own
      // memory reflects the export only. canonical = head + seq + tail, split at a sentinel seq.
      const occurredAt = new Date('2026-03-01T12:00:00Z').toISOString();
      const sentinel = 987_654_321_987;
      const text = canonicalEvent({
        tenantId,
        seq: sentinel,
        occurredAt,
        actorType: 'user',
        actorId: userId,
        action: 'auth.sign_in.succeeded',
        targetType: null,
        targetId: null,
        ipDigest: null,
        userAgentDigest: null,
        before: null,
        after: null,
        metadata: {},
        riskScore: 0,
      });
      const [head, tail] = text.split(String(sentinel));
      // 2,000 per transaction: the chain-head row is rewritten per event, and its versions cannot be
      // pruned before the transaction ends.
      for (; written < events; written += Math.min(2_000, events - written)) {
        await db.withTenant(tenantId, (tx) =>
          tx.client.query(
            `SELECT count(*) FROM generate_series(1, $1::int) g,
        LATERAL public.audit_append($2::timestamptz, 'user', $3, 'auth.sign_in.succeeded', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}'::jsonb, (0 * g)::smallint, $4, $5) a`,
            [Math.min(2_000, events - written), occurredAt, userId, head, tail],
          ),
        );
      }
      const stored = await db.owner.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND actor_id = $2 AND action = 'auth.sign_in.succeeded'",
        [tenantId, userId],
      );
      expect(stored.rows[0]?.n).toBe(events);
      const formats =
        (process.env['TESSERA_BENCH_FORMATS']?.split(',') as
          ('json' | 'csv' | 'pdf')[] | undefined) ??
        (events <= 10_000 ? ['json', 'csv', 'pdf'] : ['json', 'csv']);
      for (const format of formats) {
        const requestId = await db.withTenant(
          tenantId,
          async (tx) =>
            (
              await createPrivacyRequest(
                tx,
                { type: 'user', id: userId },
                { userId, type: 'export', format },
                { keyring, now: new Date() },
              )
            ).request.id,
        );
        gc();
        const before = process.memoryUsage().rss;
        const heapBefore = process.memoryUsage().heapUsed;
        let peak = before;
        let heapPeak = heapBefore;
        const sampler = setInterval(() => {
          const m = process.memoryUsage();
          peak = Math.max(peak, m.rss);
          heapPeak = Math.max(heapPeak, m.heapUsed + m.external);
        }, 5);
        const started = performance.now();
        expect(
          await handleExportJob(
            { data: { tenantId, requestId } },
            { database: db.app, keyring, consoleUrl: 'http://localhost:3000' },
          ),
        ).toEqual({ status: 'completed' });
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        peak = Math.max(peak, process.memoryUsage().rss);
        gc();
        const retainedMb = Math.round((process.memoryUsage().heapUsed - heapBefore) / MB);
        const { rows } = await db.owner.pool.query<{ bytes: string }>(
          'SELECT export_bytes::text AS bytes FROM privacy_requests WHERE id = $1',
          [requestId],
        );
        results.push({
          events,
          format,
          seconds: Number(seconds.toFixed(2)),
          megabytes: Number((Number(rows[0]?.bytes ?? 0) / MB).toFixed(1)),
          peakRssMb: Math.round(peak / MB),
          rssGrowthMb: Math.round((peak - before) / MB),
          heapPeakGrowthMb: Math.round((heapPeak - heapBefore) / MB),
          retainedMb,
        });
      }
    }
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    for (const format of new Set(results.map((r) => r.format))) {
      const runs = results.filter((r) => r.format === format);
      expect((runs.at(-1)?.peakRssMb ?? 0) - (runs[0]?.peakRssMb ?? 0), format).toBeLessThan(50);
      expect(
        runs.every((r) => r.retainedMb <= 2),
        format,
      ).toBe(true); // nothing kept after the export
    }
    expect(await db.withTenant(tenantId, (tx) => verifyAuditChain(tx))).toMatchObject({
      valid: true,
    });
  },
);
