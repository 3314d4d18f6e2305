/**
 * The tenant's OpenID Provider signing keys (docs/oidc-provider.md "Signing keys").
 *
 * Guarantees: a private key is stored only as AES-256-GCM ciphertext under the data keyring, bound
 * to its tenant and row (purpose `oidc.signing_key`), so `rotate-keys` re-encrypts it with every
 * other secret and a ciphertext copied to another tenant fails. Exactly one key signs at a time
 * (the newest active one); a new key is published before it signs (`activateAfterSeconds`, so
 * every node's cached JWKS shows it first), and a retired key stays published until every token
 * it signed has expired. Pinned by packages/api/src/oidc/oidc-discovery.security.test.ts.
 */
import { generateKeyPair, randomBytes, type JsonWebKey } from 'node:crypto';
import { promisify } from 'node:util';
import { and, asc, eq, gt, isNull, lte, or } from 'drizzle-orm';
import { oidcSigningKeys, withTenant, type Database, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { userAuditOf, type OidcUserActor } from './actor.js';
import { OIDC_KEY_PUBLISH_MARGIN_SECONDS, OIDC_SIGNED_TOKEN_MAX_SECONDS } from './lifetimes.js';

const generateRsaKeyPair = promisify(generateKeyPair);
const PURPOSE = 'oidc.signing_key';

/** A freshly generated key pair, made before the transaction opens (RSA generation is CPU work). */
export interface GeneratedSigningKey {
  kid: string;
  publicJwk: Record<string, string>;
  privateJwk: Record<string, string>;
}

export interface SigningKeyView {
  kid: string;
  alg: 'RS256';
  createdAt: string;
  activatesAt: string;
  retiredAt: string | null;
  publishedUntil: string | null;
}

/** One private JWK as oidc-provider's `jwks` option takes it. */
export type ProviderJwk = JsonWebKey & { kid: string; alg: string; use: 'sig'; key_ops?: string[] };

export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  // RS256: the algorithm every relying party must accept (OpenID Connect Core §15.1).
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('base64url');
  const pub = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const priv = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  return {
    kid,
    publicJwk: { ...pub, kid, alg: 'RS256', use: 'sig' },
    privateJwk: { ...priv, kid, alg: 'RS256', use: 'sig' },
  };
}

export async function insertSigningKey(
  tx: TenantTx,
  key: GeneratedSigningKey,
  keyring: Keyring,
  activatesAt: Date,
  now: Date,
): Promise<void> {
  const id = randomUuid();
  await tx.insert(oidcSigningKeys).values({
    id,
    tenantId: tx.tenantId,
    kid: key.kid,
    alg: 'RS256',
    publicJwk: key.publicJwk,
    privateJwkCiphertext: keyring.encrypt(JSON.stringify(key.privateJwk), {
      purpose: PURPOSE,
      tenantId: tx.tenantId,
      rowId: id,
    }),
    createdAt: now,
    activatesAt,
  });
}

/** Keys still published at `now`: live ones, and retired ones whose tokens may not have expired. */
async function publishedRows(tx: TenantTx, now: Date) {
  return tx
    .select()
    .from(oidcSigningKeys)
    .where(or(isNull(oidcSigningKeys.retiredAt), gt(oidcSigningKeys.publishedUntil, now)))
    .orderBy(asc(oidcSigningKeys.activatesAt), asc(oidcSigningKeys.createdAt));
}

/** True when some key signs at `now`; the provider registry creates one when none does. */
export async function hasActiveSigningKey(tx: TenantTx, now: Date): Promise<boolean> {
  const rows = await tx
    .select({ kid: oidcSigningKeys.kid })
    .from(oidcSigningKeys)
    .where(
      and(
        lte(oidcSigningKeys.activatesAt, now),
        or(isNull(oidcSigningKeys.retiredAt), gt(oidcSigningKeys.retiredAt, now)),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/**
 * The provider's key set at `now`: the signing key first and unrestricted, every other published
 * key marked `key_ops: ['verify']` so oidc-provider publishes it but never signs with it.
 */
export async function loadProviderKeys(
  tx: TenantTx,
  keyring: Keyring,
  now: Date,
): Promise<ProviderJwk[]> {
  const rows = await publishedRows(tx, now);
  const signs = (r: (typeof rows)[number]): boolean =>
    r.activatesAt <= now && (r.retiredAt === null || r.retiredAt > now);
  const signer = rows.filter(signs).at(-1);
  const keys = rows.map((row) => {
    const jwk = JSON.parse(
      keyring.decryptString(row.privateJwkCiphertext, {
        purpose: PURPOSE,
        tenantId: tx.tenantId,
        rowId: row.id,
      }),
    ) as ProviderJwk;
    return row === signer ? jwk : { ...jwk, key_ops: ['verify'] };
  });
  return keys.sort((a, b) => Number(b.kid === signer?.kid) - Number(a.kid === signer?.kid));
}

export async function listSigningKeys(tx: TenantTx, now: Date): Promise<SigningKeyView[]> {
  const rows = await publishedRows(tx, now);
  return rows.map((r) => ({
    kid: r.kid,
    alg: r.alg,
    createdAt: r.createdAt.toISOString(),
    activatesAt: r.activatesAt.toISOString(),
    retiredAt: r.retiredAt?.toISOString() ?? null,
    publishedUntil: r.publishedUntil?.toISOString() ?? null,
  }));
}

/**
 * Adds `key`, signing from `now + activateAfterSeconds`, and retires the keys signing today at that
 * moment; they stay published until their last token has expired (plus a margin for caches).
 */
export async function rotateSigningKey(
  tx: TenantTx,
  actor: OidcUserActor,
  rotation: { key: GeneratedSigningKey; keyring: Keyring; now: Date; activateAfterSeconds: number },
): Promise<{ kid: string; activatesAt: string }> {
  const { key, keyring, now, activateAfterSeconds } = rotation;
  const activatesAt = new Date(now.getTime() + activateAfterSeconds * 1000);
  const publishedUntil = new Date(
    activatesAt.getTime() +
      (OIDC_SIGNED_TOKEN_MAX_SECONDS + OIDC_KEY_PUBLISH_MARGIN_SECONDS) * 1000,
  );
  const retired = await tx
    .update(oidcSigningKeys)
    .set({ retiredAt: activatesAt, publishedUntil })
    .where(isNull(oidcSigningKeys.retiredAt))
    .returning({ kid: oidcSigningKeys.kid });
  await insertSigningKey(tx, key, keyring, activatesAt, now);
  await recordAuditEvent(tx, {
    ...userAuditOf(actor),
    action: 'oidc.signing_key.rotated',
    target: { type: 'oidc_signing_key', id: null },
    before: { kids: retired.map((r) => r.kid) },
    after: { kid: key.kid, activatesAt: activatesAt.toISOString() },
    occurredAt: now,
  });
  return { kid: key.kid, activatesAt: activatesAt.toISOString() };
}

/** `rotate-keys`: the private key again under the ring's first key; 1 when it changed. */
export async function reencryptSigningKey(
  db: Database,
  keyring: Keyring,
  tenantId: string,
  id: string,
): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    const [row] = await tx
      .select({ ciphertext: oidcSigningKeys.privateJwkCiphertext })
      .from(oidcSigningKeys)
      .where(eq(oidcSigningKeys.id, id))
      .for('update');
    if (!row || !keyring.needsRotation(row.ciphertext)) return 0;
    const context = { purpose: PURPOSE, tenantId, rowId: id };
    await tx
      .update(oidcSigningKeys)
      .set({ privateJwkCiphertext: keyring.reencrypt(row.ciphertext, context) })
      .where(eq(oidcSigningKeys.id, id));
    return 1;
  });
}

function randomUuid(): string {
  return globalThis.crypto.randomUUID();
}
