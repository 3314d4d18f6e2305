/**
 * Reads the chain in seq order, in batches (keyset pagination on the (tenant_id, seq) primary key),
 * in exactly the representation the export and the third-party verifier use: hex hashes and
 * ISO-8601 UTC timestamps with milliseconds. RLS scopes every read to the transaction's tenant.
 */
import type { TenantTx } from '@tessera/db';
import type { ChainFields, JsonValue } from './canonical.js';

/** One audit row as exported (one JSON line) and verified. */
export interface ChainRow {
  tenantId: string;
  seq: number;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  ipDigest: string | null;
  userAgentDigest: string | null;
  before: JsonValue;
  after: JsonValue;
  metadata: JsonValue;
  riskScore: number;
  piiSalt: string | null;
  pii: Record<string, string> | null;
  redactedAt: string | null;
  prevHash: string;
  hash: string;
}

export const CHAIN_ROW_KEYS = [
  'tenantId',
  'seq',
  'occurredAt',
  'actorType',
  'actorId',
  'action',
  'targetType',
  'targetId',
  'ip',
  'userAgent',
  'ipDigest',
  'userAgentDigest',
  'before',
  'after',
  'metadata',
  'riskScore',
  'piiSalt',
  'pii',
  'redactedAt',
  'prevHash',
  'hash',
] as const satisfies readonly (keyof ChainRow)[];

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const SELECT_ROWS = `
  SELECT tenant_id::text AS "tenantId", seq::float8 AS seq,
         pg_catalog.to_char(occurred_at AT TIME ZONE 'UTC', ${ISO}) AS "occurredAt",
         actor_type AS "actorType", actor_id AS "actorId", action, target_type AS "targetType", target_id AS "targetId",
         ip, user_agent AS "userAgent", pg_catalog.encode(ip_digest, 'hex') AS "ipDigest",
         pg_catalog.encode(user_agent_digest, 'hex') AS "userAgentDigest", before, after, metadata,
         risk_score AS "riskScore", pg_catalog.encode(pii_salt, 'hex') AS "piiSalt", pii,
         pg_catalog.to_char(redacted_at AT TIME ZONE 'UTC', ${ISO}) AS "redactedAt",
         pg_catalog.encode(prev_hash, 'hex') AS "prevHash", pg_catalog.encode(hash, 'hex') AS hash
  FROM public.audit_logs l
  WHERE l.seq > $1 AND l.seq <= $2
  ORDER BY l.seq
  LIMIT $3`;

/** Narrows the rows read (the audit page's filter, for a filtered export). */
export interface ChainFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Only rows whose target id is one of these. */
  targetIds?: readonly string[] | undefined;
}

// A filtered read keeps the keyset order on (tenant_id, seq); each condition is skipped when its
// parameter is null, so one prepared statement serves every combination.
const SELECT_FILTERED_ROWS = SELECT_ROWS.replace(
  'WHERE l.seq > $1 AND l.seq <= $2',
  `WHERE l.seq > $1 AND l.seq <= $2
    AND ($4::text IS NULL OR l.action = $4) AND ($5::text IS NULL OR l.actor_id = $5)
    AND ($6::timestamptz IS NULL OR l.occurred_at >= $6) AND ($7::timestamptz IS NULL OR l.occurred_at < $7)
    AND ($8::text[] IS NULL OR l.target_id = ANY ($8::text[]))`,
);

export interface ChainRange {
  /** Rows with seq greater than this (default 0). */
  afterSeq?: number;
  /** Rows with seq up to and including this (default: all). */
  throughSeq?: number;
  batchSize?: number;
  /** Only matching rows (an export of the audit page's view; such a subset is not a chain). */
  filter?: ChainFilter | undefined;
}

/**
 * Streams the tenant's rows in seq order without loading the chain into memory. The next batch is
 * requested before the current one is handed out, so the database works while the caller hashes.
 */
export async function* readChainRows(
  tx: TenantTx,
  range: ChainRange = {},
): AsyncGenerator<ChainRow> {
  const batchSize = range.batchSize ?? 2000;
  const through = range.throughSeq ?? Number.MAX_SAFE_INTEGER;
  const fetch = async (after: number): Promise<ChainRow[]> => {
    // seq comes as float8 (exact below 2^53) so rows need no per-row rewriting.
    const f = range.filter;
    const { rows } = await tx.client.query<ChainRow>(
      f === undefined
        ? {
            name: 'tessera_audit_read_chain',
            text: SELECT_ROWS,
            values: [after, through, batchSize],
          }
        : {
            name: 'tessera_audit_read_filtered',
            text: SELECT_FILTERED_ROWS,
            // prettier-ignore
            values: [after, through, batchSize, f.action ?? null, f.actorId ?? null, f.since ?? null, f.until ?? null, f.targetIds === undefined ? null : [...f.targetIds]],
          },
    );
    return rows;
  };
  let pending: Promise<ChainRow[]> | null = fetch(range.afterSeq ?? 0);
  while (pending !== null) {
    const rows: ChainRow[] = await pending;
    const last = rows.at(-1);
    pending = rows.length === batchSize && last ? fetch(last.seq) : null;
    pending?.catch(() => undefined); // awaited on the next turn; never an unhandled rejection if the caller stops early
    yield* rows;
  }
}

/** The chain-covered fields of a row, as canonical() takes them. */
export function chainFieldsOf(row: ChainRow): ChainFields {
  return {
    tenantId: row.tenantId,
    seq: row.seq,
    occurredAt: row.occurredAt,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    ipDigest: row.ipDigest,
    userAgentDigest: row.userAgentDigest,
    before: row.before,
    after: row.after,
    metadata: row.metadata,
    riskScore: row.riskScore,
  };
}
