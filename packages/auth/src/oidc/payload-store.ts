/**
 * Storage of oidc-provider's models (grants, authorization and device codes, refresh tokens, its
 * sessions and interactions) in `oidc_payloads`, one tenant transaction per call.
 *
 * Guarantees: a model's id is stored only as SHA-256 (a refresh token's or a code's id is the
 * token itself, docs/design.md rule 4) and removed from the stored payload; an expired row is
 * never returned (database clock); a consumed row comes back marked `consumed`, which is how the
 * provider detects a replayed code or a reused refresh token. RLS scopes every call to the
 * transaction's tenant, so one tenant's provider cannot read another's tokens. The two kinds the
 * provider looks up by something else (a device's user code, a session's uid) need their id back:
 * it is kept sealed under the data keyring, bound to the tenant and row.
 */
import { and, eq, gt, isNull, or, sql, type SQL } from 'drizzle-orm';
import { oidcPayloads, type TenantTx } from '@tessera/db';
import type { Keyring } from '../crypto/keyring.js';
import { sha256 } from '../crypto/tokens.js';

export type OidcPayload = Record<string, unknown>;

const live = (): SQL | undefined =>
  or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, sql`now()`));

function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 128 ? value : null;
}

const SEALED_ID = 'sealedJti';

function sealContext(tx: TenantTx, kind: string, idHash: Buffer) {
  return {
    purpose: 'oidc.payload_id',
    tenantId: tx.tenantId,
    rowId: `${kind}:${idHash.toString('hex')}`,
  };
}

export async function upsertOidcPayload(
  tx: TenantTx,
  keyring: Keyring,
  model: { kind: string; id: string; payload: OidcPayload; expiresInSeconds: number | undefined },
): Promise<void> {
  const { kind, id, payload, expiresInSeconds } = model;
  const { jti: _jti, ...rest } = payload;
  const idHash = sha256(id);
  const grantId = stringOf(payload['grantId']) ?? (kind === 'Grant' ? id : null);
  const userCode = stringOf(payload['userCode']);
  const uid = stringOf(payload['uid']);
  const stored =
    uid || userCode
      ? { ...rest, [SEALED_ID]: keyring.encrypt(id, sealContext(tx, kind, idHash)) }
      : rest;
  const values = {
    payload: stored,
    grantId,
    uidHash: uid ? sha256(uid) : null,
    userCodeHash: userCode ? sha256(userCode) : null,
    accountId: stringOf(payload['accountId']),
    clientId: stringOf(payload['clientId']),
    expiresAt: expiresInSeconds ? sql`now() + make_interval(secs => ${expiresInSeconds})` : null,
  };
  await tx
    .insert(oidcPayloads)
    .values({ tenantId: tx.tenantId, kind, idHash, ...values })
    .onConflictDoUpdate({
      target: [oidcPayloads.tenantId, oidcPayloads.kind, oidcPayloads.idHash],
      set: values,
    });
}

async function findWhere(
  tx: TenantTx,
  kind: string,
  where: SQL | undefined,
): Promise<{ payload: OidcPayload; idHash: Buffer } | undefined> {
  const [row] = await tx
    .select({
      payload: oidcPayloads.payload,
      consumedAt: oidcPayloads.consumedAt,
      idHash: oidcPayloads.idHash,
    })
    .from(oidcPayloads)
    .where(and(eq(oidcPayloads.kind, kind), where, live()))
    .limit(1);
  if (!row) return undefined;
  const consumed = row.consumedAt ? { consumed: Math.floor(row.consumedAt.getTime() / 1000) } : {};
  const { [SEALED_ID]: _sealed, ...payload } = row.payload;
  return { payload: { ...payload, ...consumed }, idHash: row.idHash };
}

export async function findOidcPayload(
  tx: TenantTx,
  kind: string,
  id: string,
): Promise<OidcPayload | undefined> {
  const found = await findWhere(tx, kind, eq(oidcPayloads.idHash, sha256(id)));
  return found ? { ...found.payload, jti: id } : undefined;
}

/**
 * By user code (device flow) or uid (sessions): the id is not known to the caller, and the
 * provider reads it from `jti`, so those two kinds keep theirs in a column it can be read from.
 */
export async function findOidcPayloadBy(
  tx: TenantTx,
  keyring: Keyring,
  kind: string,
  by: 'userCode' | 'uid',
  value: string,
): Promise<OidcPayload | undefined> {
  const column = by === 'uid' ? oidcPayloads.uidHash : oidcPayloads.userCodeHash;
  const [row] = await tx
    .select({ payload: oidcPayloads.payload, idHash: oidcPayloads.idHash })
    .from(oidcPayloads)
    .where(and(eq(oidcPayloads.kind, kind), eq(column, sha256(value)), live()))
    .limit(1);
  const sealed = row?.payload[SEALED_ID];
  if (!row || typeof sealed !== 'string') return undefined;
  const id = keyring.decryptString(sealed, sealContext(tx, kind, row.idHash));
  return findOidcPayload(tx, kind, id);
}

export async function consumeOidcPayload(tx: TenantTx, kind: string, id: string): Promise<void> {
  await tx
    .update(oidcPayloads)
    .set({ consumedAt: sql`now()` })
    .where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads.idHash, sha256(id))));
}

export async function destroyOidcPayload(tx: TenantTx, kind: string, id: string): Promise<void> {
  await tx
    .delete(oidcPayloads)
    .where(and(eq(oidcPayloads.kind, kind), eq(oidcPayloads.idHash, sha256(id))));
}

/** Deletes every model of a grant (its codes, tokens and the grant itself). */
export async function revokeOidcGrant(tx: TenantTx, grantId: string): Promise<void> {
  await tx.delete(oidcPayloads).where(eq(oidcPayloads.grantId, grantId));
}
