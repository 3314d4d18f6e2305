/**
 * Per-tenant audit retention: archive (export) first, then prune, anchored by a signed prune
 * checkpoint so the remaining chain still verifies from its new first row (docs/audit-log.md,
 * "Retention"). The prune itself goes through prune_audit_logs(), the only DELETE path, which
 * refuses rows inside the retention period or not covered by a prune checkpoint.
 * Pinned by audit-retention.db.test.ts.
 */
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import { AuthError } from '../errors.js';
import { createCheckpoint, type AuditPublicKey, type AuditSigningKey } from './checkpoints.js';
import { auditExportChunks } from './export-audit-log.js';
import { recordAuditEvent, type AuditActor } from './record-audit-event.js';
import { verifyAuditChain } from './verify-audit-chain.js';

export const MIN_RETENTION_DAYS = 30;
export const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/** The chain does not verify; pruning now would destroy the evidence. */
export class AuditChainBrokenError extends Error {
  override readonly name = 'AuditChainBrokenError';
  constructor(readonly firstInvalidSeq: number | undefined) {
    super(
      `audit chain does not verify (first invalid seq ${firstInvalidSeq ?? '?'}); refusing to prune`,
    );
  }
}

export async function findAuditRetention(tx: TenantTx): Promise<number | null> {
  const { rows } = await tx.client.query<{ days: number | null }>(
    'SELECT retention_days AS days FROM public.audit_settings',
  );
  return rows[0]?.days ?? null;
}

/** Sets (or with null, clears) the retention in days, 30..36500, and audits the change. */
export async function setAuditRetention(
  tx: TenantTx,
  actor: AuditActor,
  days: number | null,
  now: Date = new Date(),
): Promise<void> {
  if (
    days !== null &&
    (!Number.isInteger(days) || days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS)
  ) {
    throw new AuthError('invalid_input', {
      field: 'retentionDays',
      detail: `Retention is ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} days.`,
    });
  }
  const previous = await findAuditRetention(tx);
  await tx.client.query(
    `INSERT INTO public.audit_settings (tenant_id, retention_days, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, updated_at = EXCLUDED.updated_at`,
    [tx.tenantId, days, now.toISOString()],
  );
  await recordAuditEvent(tx, {
    actor,
    action: 'audit.retention.updated',
    occurredAt: now,
    target: { type: 'tenant', id: tx.tenantId },
    before: { retentionDays: previous },
    after: { retentionDays: days },
  });
}

export interface PruneAuditOptions {
  signingKey: AuditSigningKey;
  /** Receives the JSON-lines export of the rows about to be pruned; must throw if it cannot keep them. */
  archive: (chunks: AsyncIterable<string>) => Promise<void>;
  /** Verify checkpoints against these keys before pruning (recommended). */
  publicKey?: AuditPublicKey | readonly AuditPublicKey[];
  now?: Date;
}

/** Archives then prunes the prefix of the chain older than the tenant's retention. */
export async function pruneAuditLog(
  tx: TenantTx,
  options: PruneAuditOptions,
): Promise<{ pruned: number; throughSeq: number | null }> {
  const days = await findAuditRetention(tx);
  if (days === null) return { pruned: 0, throughSeq: null };
  const now = options.now ?? new Date();
  const range = await expiredRange(tx, new Date(now.getTime() - days * DAY_MS));
  if (range === null) return { pruned: 0, throughSeq: null };
  const check = await verifyAuditChain(
    tx,
    options.publicKey === undefined ? {} : { publicKey: options.publicKey },
  );
  if (!check.valid) throw new AuditChainBrokenError(check.firstInvalidSeq);
  const pruned = await archiveAndPrune(tx, range, options, now);
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'audit.retention.pruned',
    occurredAt: now,
    metadata: { throughSeq: range.throughSeq, rowsPruned: pruned, retentionDays: days },
  });
  return { pruned, throughSeq: range.throughSeq };
}

/** Archive, anchor, delete: the order is the guarantee (nothing is deleted before it is archived). */
async function archiveAndPrune(
  tx: TenantTx,
  range: ExpiredRange,
  options: PruneAuditOptions,
  now: Date,
): Promise<number> {
  const { afterSeq, throughSeq, hash } = range;
  await options.archive(auditExportChunks(tx, { format: 'jsonl', afterSeq, throughSeq }));
  await createCheckpoint(tx, { seq: throughSeq, hash, kind: 'prune' }, options.signingKey, now);
  const { rows } = await tx.client.query<{ n: string }>(
    'SELECT public.prune_audit_logs($1)::text AS n',
    [throughSeq],
  );
  return Number(rows[0]?.n ?? 0);
}

interface ExpiredRange {
  afterSeq: number;
  throughSeq: number;
  hash: string;
}

/** The leading rows older than the cutoff: (afterSeq, throughSeq] and the hash at throughSeq. */
async function expiredRange(tx: TenantTx, cutoff: Date): Promise<ExpiredRange | null> {
  const { rows } = await tx.client.query<{ first: string | null; through: string | null }>(
    `SELECT (SELECT min(seq) FROM public.audit_logs)::text AS first,
            coalesce((SELECT seq FROM public.audit_logs WHERE occurred_at >= $1 ORDER BY seq LIMIT 1) - 1,
                     (SELECT max(seq) FROM public.audit_logs))::text AS through`,
    [cutoff.toISOString()],
  );
  const first = Number(rows[0]?.first ?? 0);
  const through = Number(rows[0]?.through ?? 0);
  if (first === 0 || through < first) return null;
  const hash = await tx.client.query<{ hash: string }>(
    `SELECT pg_catalog.encode(hash, 'hex') AS hash FROM public.audit_logs WHERE seq = $1`,
    [through],
  );
  const hex = hash.rows[0]?.hash;
  return hex === undefined ? null : { afterSeq: first - 1, throughSeq: through, hash: hex };
}

/** Periodic job: prunes every tenant with rows past its retention, each in its own transaction. */
export async function runAuditRetention(
  database: Pick<Database, 'pool'>,
  options: Omit<PruneAuditOptions, 'archive' | 'now'> & {
    archive: (tenantId: string, chunks: AsyncIterable<string>) => Promise<void>;
    now?: () => Date;
  },
): Promise<{ pruned: Record<string, number>; failedTenantIds: string[] }> {
  const { rows } = await database.pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM public.audit_retention_due($1)',
    [(options.now?.() ?? new Date()).toISOString()],
  );
  const pruned: Record<string, number> = {};
  const failedTenantIds: string[] = [];
  for (const { tenant_id: tenantId } of rows) {
    try {
      const result = await withTenant(database, tenantId, (tx) =>
        pruneAuditLog(tx, {
          ...options,
          archive: (chunks) => options.archive(tenantId, chunks),
          now: options.now?.() ?? new Date(),
        }),
      );
      pruned[tenantId] = result.pruned;
    } catch {
      failedTenantIds.push(tenantId);
    }
  }
  return { pruned, failedTenantIds };
}
