/**
 * Signed checkpoints: Ed25519 signatures over "tenant T's chain had hash H at seq N", made with
 * AUDIT_SIGNING_KEY (held by the application, never by the database). A checkpoint row is
 * insert-only and also written into the chain itself as an `audit.checkpoint.signed` event, so a
 * SIEM that received the export holds a copy. Anyone who rewrites the whole tail, or truncates it,
 * after a checkpoint cannot produce a matching signed statement (docs/audit-log.md, "Anchoring").
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import { canonicalJson } from './canonical.js';
import { lockChainHead, recordAuditEvent } from './record-audit-event.js';

/** An Ed25519 private key, or its PKCS#8 DER as base64 (or PEM): config AUDIT_SIGNING_KEY. */
export type AuditSigningKey = KeyObject | string;
/** Ed25519 public key(s) to verify with: KeyObject, base64 SPKI DER or PEM; a private key works too. */
export type AuditPublicKey = KeyObject | string;

export type AuditCheckpointKind = 'head' | 'prune';

export interface AuditCheckpoint {
  tenantId: string;
  seq: number;
  /** Hex SHA-256 chain hash at seq. */
  hash: string;
  kind: AuditCheckpointKind;
  /** ISO-8601 UTC with milliseconds. */
  signedAt: string;
  keyId: string;
  /** Base64 Ed25519 signature over checkpointMessage(). */
  signature: string;
}

function asKeyObject(input: KeyObject | string, kind: 'private' | 'public'): KeyObject {
  if (input instanceof KeyObject) return input;
  const text = input.trim();
  if (text.startsWith('-----BEGIN'))
    return kind === 'private' ? createPrivateKey(text) : createPublicKey(text);
  const der = Buffer.from(text, 'base64');
  if (kind === 'private') return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  }
}

/** Parses AUDIT_SIGNING_KEY; throws TypeError (never echoing the key) unless it is an Ed25519 private key. */
export function parseAuditSigningKey(input: AuditSigningKey): KeyObject {
  let key: KeyObject;
  try {
    key = asKeyObject(input, 'private');
  } catch {
    throw new TypeError('AUDIT_SIGNING_KEY is not a PKCS#8 private key');
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')
    throw new TypeError('AUDIT_SIGNING_KEY must be an Ed25519 private key');
  return key;
}

/** The public key that verifies checkpoints made with `input` (a private or public key). */
export function auditPublicKeyOf(input: AuditSigningKey | AuditPublicKey): KeyObject {
  let key: KeyObject;
  try {
    key = asKeyObject(input, 'public');
    if (key.type === 'private') key = createPublicKey(key);
  } catch {
    throw new TypeError('audit public key is not an SPKI or PKCS#8 key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('audit public key must be Ed25519');
  return key;
}

/** First 16 bytes of SHA-256 over the SPKI DER, hex: names the key without revealing anything. */
export function auditKeyId(key: AuditSigningKey | AuditPublicKey): string {
  const der = auditPublicKeyOf(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

/** The signed bytes: canonical JSON of a fixed-order array (docs/audit-log.md). */
export function checkpointMessage(cp: Omit<AuditCheckpoint, 'keyId' | 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson([
      'tessera.audit.checkpoint.v1',
      cp.tenantId,
      cp.kind,
      cp.seq,
      cp.hash,
      cp.signedAt,
    ]),
    'utf8',
  );
}

/** True when the checkpoint is signed by the trusted key its key id names (keys by auditKeyId). */
export function checkpointSignatureValid(
  cp: AuditCheckpoint,
  keysById: ReadonlyMap<string, KeyObject>,
): boolean {
  const key = keysById.get(cp.keyId);
  return (
    key !== undefined &&
    verify(null, checkpointMessage(cp), key, Buffer.from(cp.signature, 'base64'))
  );
}

/**
 * Signs and stores a checkpoint at (seq, hash), then records it in the chain. The caller makes
 * sure (seq, hash) is a real row or the current head; the database refuses anything else.
 */
export async function createCheckpoint(
  tx: TenantTx,
  at: { seq: number; hash: string; kind: AuditCheckpointKind },
  signingKey: AuditSigningKey,
  now: Date,
): Promise<AuditCheckpoint> {
  const key = parseAuditSigningKey(signingKey);
  const unsigned = {
    tenantId: tx.tenantId,
    seq: at.seq,
    hash: at.hash,
    kind: at.kind,
    signedAt: now.toISOString(),
  };
  const checkpoint: AuditCheckpoint = {
    ...unsigned,
    keyId: auditKeyId(key),
    signature: sign(null, checkpointMessage(unsigned), key).toString('base64'),
  };
  await insertCheckpoint(tx, checkpoint);
  const { tenantId: _tenant, hash, ...rest } = checkpoint;
  await recordAuditEvent(tx, {
    actor: { type: 'system', id: null },
    action: 'audit.checkpoint.signed',
    occurredAt: now,
    metadata: { ...rest, sha256: hash },
  });
  return checkpoint;
}

async function insertCheckpoint(tx: TenantTx, cp: AuditCheckpoint): Promise<void> {
  await tx.client.query(
    `INSERT INTO public.audit_checkpoints (tenant_id, seq, hash, kind, signed_at, key_id, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    // prettier-ignore
    [cp.tenantId, cp.seq, Buffer.from(cp.hash, 'hex'), cp.kind, cp.signedAt, cp.keyId, Buffer.from(cp.signature, 'base64')],
  );
}

/** Signs the tenant's current chain head (on demand, or from signDueAuditCheckpoints). */
export async function signAuditCheckpoint(
  tx: TenantTx,
  options: { signingKey: AuditSigningKey; now?: Date },
): Promise<AuditCheckpoint> {
  const head = await lockChainHead(tx); // writers wait, so the head cannot move while we sign it
  return createCheckpoint(
    tx,
    { seq: head.seq, hash: head.hash.toString('hex'), kind: 'head' },
    options.signingKey,
    options.now ?? new Date(),
  );
}

/** The tenant's checkpoints at or after `fromSeq`, in seq order. */
export async function loadCheckpoints(tx: TenantTx, fromSeq = 0): Promise<AuditCheckpoint[]> {
  const { rows } = await tx.client.query<AuditCheckpoint & { seq: string }>(
    `SELECT tenant_id::text AS "tenantId", seq::text AS seq, pg_catalog.encode(hash, 'hex') AS hash, kind,
            pg_catalog.to_char(signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "signedAt",
            key_id AS "keyId", pg_catalog.encode(signature, 'base64') AS signature
     FROM public.audit_checkpoints c WHERE c.seq >= $1 ORDER BY c.seq, c.id`,
    [fromSeq],
  );
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

/** The latest prune checkpoint: where the retained chain starts. */
export async function findPruneAnchor(tx: TenantTx): Promise<AuditCheckpoint | null> {
  const { rows } = await tx.client.query<{ seq: string }>(
    `SELECT c.seq::text AS seq FROM public.audit_checkpoints c WHERE c.kind = 'prune' ORDER BY c.seq DESC, c.id DESC LIMIT 1`,
  );
  const seq = rows[0]?.seq;
  if (seq === undefined) return null;
  return (
    (await loadCheckpoints(tx, Number(seq))).find(
      (cp) => cp.kind === 'prune' && cp.seq === Number(seq),
    ) ?? null
  );
}

/** Periodic job: signs the head of every tenant whose chain moved since its last checkpoint. */
export async function signDueAuditCheckpoints(
  database: Pick<Database, 'pool'>,
  options: { signingKey: AuditSigningKey; now?: () => Date },
): Promise<{ signed: number; failedTenantIds: string[] }> {
  const { rows } = await database.pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM public.audit_checkpoints_due()',
  );
  const failedTenantIds: string[] = [];
  let signed = 0;
  for (const { tenant_id: tenantId } of rows) {
    try {
      await withTenant(database, tenantId, (tx) =>
        signAuditCheckpoint(tx, {
          signingKey: options.signingKey,
          now: options.now?.() ?? new Date(),
        }),
      );
      signed += 1;
    } catch {
      failedTenantIds.push(tenantId); // one tenant's failure must not starve the others
    }
  }
  return { signed, failedTenantIds };
}

/**
 * Seconds the oldest audit event not covered by a signed checkpoint has waited, across tenants
 * (0 when all are anchored): the `tessera_audit_checkpoint_age_seconds` gauge (migration 0014).
 */
export async function auditUnanchoredAgeSeconds(database: Pick<Database, 'pool'>): Promise<number> {
  const { rows } = await database.pool.query<{ age: number }>(
    'SELECT public.audit_unanchored_age_seconds() AS age',
  );
  return rows[0]?.age ?? 0;
}
