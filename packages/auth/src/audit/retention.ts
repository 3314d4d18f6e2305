/**
 * Per-tenant audit retention: archive (export) first, then prune, anchored by a signed prune
 * checkpoint so the remaining chain still verifies from its new first row (docs/audit-log.md,
 * "Retention"). Only the owner role (the audit CLI's DATABASE_URL) may set retention, anchor a
 * prune or delete: the runtime role reads, verifies and archives under RLS, and the database
 * refuses it the rest (migration 0019). The prune itself goes through prune_audit_logs(), the only
 * DELETE path, which refuses rows inside the retention period (at least 365 days) or not covered
 * by a prune checkpoint. Pinned by audit-retention.db.test.ts and audit-prune.security.test.ts.
 */
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import { AuthError } from '../errors.js';
import { createCheckpoint, type AuditPublicKey, type AuditSigningKey } from './checkpoints.js';
import { auditExportChunks } from './export-audit-log.js';
import { recordAuditEvent, type AuditActor } from './record-audit-event.js';
import { verifyAuditChain } from './verify-audit-chain.js';

/** The floor is also a CHECK on audit_settings: no role below the owner can change it. */
export const MIN_RETENTION_DAYS = 365;
export const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/** The two connections retention needs: reads stay under RLS, deletes are the owner's alone. */
export interface AuditRetentionDatabases {
  /** The runtime role (APP_DATABASE_URL): finds, verifies and archives the expired prefix. */
  runtime: Pick<Database, 'pool'>;
  /** The owner role (DATABASE_URL): anchors the prune checkpoint and deletes. */
  owner: Pick<Database, 'pool'>;
}

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
  // The tenant filter matters on the owner's connection, which sees every tenant's row.
  const { rows } = await tx.client.query<{ days: number | null }>(
    'SELECT retention_days AS days FROM public.audit_settings WHERE tenant_id = $1',
    [tx.tenantId],
  );
  return rows[0]?.days ?? null;
}

/**
 * Sets (or with null, clears: keep everything) the retention in days, 365..36500, and audits the
 * change. Runs in a tenant transaction of the owner role; the runtime role is refused.
 */
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

interface PrunePlan {
  days: number;
  range: ExpiredRange;
}

/**
 * Archives then prunes the prefix of one tenant's chain older than its retention. The order is the
 * guarantee: the archive is complete before the owner's transaction anchors and deletes anything.
 */
export async function pruneAuditLog(
  databases: AuditRetentionDatabases,
  tenantId: string,
  options: PruneAuditOptions,
): Promise<{ pruned: number; throughSeq: number | null }> {
  const now = options.now ?? new Date();
  const plan = await withTenant(
    databases.runtime,
    tenantId,
    (tx) => archiveExpired(tx, options, now),
    {
      readOnly: true,
    },
  );
  if (plan === null) return { pruned: 0, throughSeq: null };
  const { days, range } = plan;
  const pruned = await withTenant(databases.owner, tenantId, async (tx) => {
    await createCheckpoint(
      tx,
      { seq: range.throughSeq, hash: range.hash, kind: 'prune' },
      options.signingKey,
      now,
    );
    const { rows } = await tx.client.query<{ n: string }>(
      'SELECT public.prune_audit_logs($1)::text AS n',
      [range.throughSeq],
    );
    const n = Number(rows[0]?.n ?? 0);
    await recordAuditEvent(tx, {
      actor: { type: 'system', id: null },
      action: 'audit.retention.pruned',
      occurredAt: now,
      metadata: { throughSeq: range.throughSeq, rowsPruned: n, retentionDays: days },
    });
    return n;
  });
  return { pruned, throughSeq: range.throughSeq };
}

/** Finds the expired prefix, refuses a chain that does not verify, and archives the prefix. */
async function archiveExpired(
  tx: TenantTx,
  options: PruneAuditOptions,
  now: Date,
): Promise<PrunePlan | null> {
  const days = await findAuditRetention(tx);
  if (days === null) return null;
  const range = await expiredRange(tx, new Date(now.getTime() - days * DAY_MS));
  if (range === null) return null;
  const check = await verifyAuditChain(
    tx,
    options.publicKey === undefined ? {} : { publicKey: options.publicKey },
  );
  if (!check.valid) throw new AuditChainBrokenError(check.firstInvalidSeq);
  await options.archive(
    auditExportChunks(tx, {
      format: 'jsonl',
      afterSeq: range.afterSeq,
      throughSeq: range.throughSeq,
    }),
  );
  return { days, range };
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

/** Periodic job (owner role): prunes every tenant with rows past its retention, each on its own. */
export async function runAuditRetention(
  databases: AuditRetentionDatabases,
  options: Omit<PruneAuditOptions, 'archive' | 'now'> & {
    archive: (tenantId: string, chunks: AsyncIterable<string>) => Promise<void>;
    now?: () => Date;
  },
): Promise<{ pruned: Record<string, number>; failedTenantIds: string[] }> {
  const { rows } = await databases.owner.pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM public.audit_retention_due()',
  );
  const pruned: Record<string, number> = {};
  const failedTenantIds: string[] = [];
  for (const { tenant_id: tenantId } of rows) {
    try {
      const result = await pruneAuditLog(databases, tenantId, {
        ...options,
        archive: (chunks) => options.archive(tenantId, chunks),
        now: options.now?.() ?? new Date(),
      });
      pruned[tenantId] = result.pruned;
    } catch {
      failedTenantIds.push(tenantId);
    }
  }
  return { pruned, failedTenantIds };
}
