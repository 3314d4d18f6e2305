/**
 * The audit chain's status at a glance, without reading the chain: the head, the latest signed
 * checkpoint and whether it still names the chain's hash at its seq (and, given the public key,
 * whether its signature holds), and how many events wait for the next checkpoint and for how long.
 * Primary-key lookups only. The full walk (every hash recomputed) stays `audit.verify` on the
 * audit page, since it reads the whole chain (docs/audit-log.md).
 */
import type { KeyObject } from 'node:crypto';
import type { TenantTx } from '@tessera/db';
import {
  auditKeyId,
  checkpointSignatureValid,
  type AuditCheckpoint,
} from '../audit/checkpoints.js';

export type AuditAnchorStatus = 'empty' | 'anchored' | 'pending' | 'broken';

export interface AuditAnchoring {
  status: AuditAnchorStatus;
  headSeq: number;
  checkpoint: {
    seq: number;
    kind: 'head' | 'prune';
    signedAt: string;
    ageSeconds: number;
    /** The chain still has this hash at this seq (a pruned row cannot be compared: true). */
    matchesChain: boolean;
    /** null when no public key is configured to check it with. */
    signatureValid: boolean | null;
  } | null;
  /** Events after the latest checkpoint and its own `audit.checkpoint.signed` event. */
  unanchoredEvents: number;
  oldestUnanchoredAt: string | null;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const SQL = `
  SELECT coalesce(h.seq, 0)::float8 AS "headSeq", c.seq::float8 AS "cpSeq", c.kind, c.key_id AS "keyId",
         pg_catalog.encode(c.hash, 'hex') AS "cpHash", pg_catalog.encode(c.signature, 'base64') AS signature,
         pg_catalog.to_char(c.signed_at AT TIME ZONE 'UTC', ${ISO}) AS "signedAt",
         at_cp.hash IS NOT NULL AS "rowKept", at_cp.hash = c.hash AS "hashMatches",
         pg_catalog.to_char(coalesce(first_open.occurred_at, first_ever.occurred_at) AT TIME ZONE 'UTC', ${ISO})
           AS "oldestUnanchoredAt"
  FROM (SELECT 1) AS one
  LEFT JOIN public.audit_chain_heads h ON true
  -- open_seq: the first event after the checkpoint and its own audit.checkpoint.signed event.
  LEFT JOIN LATERAL (SELECT *, seq + 2 AS open_seq FROM public.audit_checkpoints
                     ORDER BY seq DESC, id DESC LIMIT 1) c ON true
  -- Plain column equalities only: under RLS an index condition must be leakproof, and int8
  -- arithmetic is not, so the seqs are computed above and each lookup is one primary-key probe.
  LEFT JOIN LATERAL (SELECT l.hash FROM public.audit_logs l WHERE l.seq = c.seq LIMIT 1) at_cp ON true
  LEFT JOIN LATERAL (SELECT l.occurred_at FROM public.audit_logs l WHERE l.seq = c.open_seq LIMIT 1) first_open ON true
  LEFT JOIN LATERAL (SELECT l.occurred_at FROM public.audit_logs l WHERE l.seq = 1 AND c.seq IS NULL) first_ever ON true`;

interface Row {
  headSeq: number;
  cpSeq: number | null;
  kind: 'head' | 'prune' | null;
  keyId: string | null;
  cpHash: string | null;
  signature: string | null;
  signedAt: string | null;
  /** The chain still holds the row at the checkpoint's seq (a prune removes it). */
  rowKept: boolean;
  hashMatches: boolean | null;
  oldestUnanchoredAt: string | null;
}

export async function auditAnchoring(
  tx: TenantTx,
  now: Date,
  publicKey?: KeyObject | readonly KeyObject[],
): Promise<AuditAnchoring> {
  const { rows } = await tx.client.query<Row>({ name: 'tessera_overview_anchoring', text: SQL });
  const row = rows[0];
  if (!row) throw new Error('anchoring query returned no row');
  const anchoredThrough = row.cpSeq === null ? 0 : row.cpSeq + 1;
  const unanchoredEvents = Math.max(0, row.headSeq - anchoredThrough);
  const checkpoint = checkpointOf(row, tx.tenantId, now, publicKey);
  const broken =
    checkpoint !== null && (!checkpoint.matchesChain || checkpoint.signatureValid === false);
  let status: AuditAnchorStatus = 'anchored';
  if (broken) status = 'broken';
  else if (row.headSeq === 0) status = 'empty';
  else if (unanchoredEvents > 0) status = 'pending';
  return {
    status,
    headSeq: row.headSeq,
    checkpoint,
    unanchoredEvents,
    oldestUnanchoredAt: unanchoredEvents > 0 ? row.oldestUnanchoredAt : null,
  };
}

function checkpointOf(
  row: Row,
  tenantId: string,
  now: Date,
  publicKey: KeyObject | readonly KeyObject[] | undefined,
): AuditAnchoring['checkpoint'] {
  if (row.cpSeq === null || !row.kind || !row.signedAt || !row.cpHash) return null;
  const cp: AuditCheckpoint = {
    tenantId,
    seq: row.cpSeq,
    hash: row.cpHash,
    kind: row.kind,
    signedAt: row.signedAt,
    keyId: row.keyId ?? '',
    signature: row.signature ?? '',
  };
  const keys = publicKey === undefined ? [] : Array.isArray(publicKey) ? publicKey : [publicKey];
  const byId = new Map(keys.map((key: KeyObject) => [auditKeyId(key), key]));
  return {
    seq: cp.seq,
    kind: cp.kind,
    signedAt: cp.signedAt,
    ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(cp.signedAt)) / 1000)),
    // Genesis (seq 0) and pruned rows have no row to compare with.
    matchesChain: row.rowKept ? row.hashMatches === true : cp.seq === 0 || cp.kind === 'prune',
    signatureValid: byId.size === 0 ? null : checkpointSignatureValid(cp, byId),
  };
}
