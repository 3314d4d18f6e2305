/**
 * Typed calls to the SECURITY DEFINER function of migrations/0009_sso.sql (docs/design.md "Decisions"):
 * cross-tenant work lists only (tenant_id, id) and then handles each row inside `withTenant`.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** Every sso_settings row holding a keyring ciphertext, for key rotation. */
export async function listSsoEncryptedRows(
  pool: Queryable,
): Promise<{ tenantId: string; id: string }[]> {
  const { rows } = await pool.query<{ tenant_id: string; id: string }>(
    'SELECT tenant_id, id FROM public.list_sso_encrypted_rows()',
  );
  return rows.map((row) => ({ tenantId: row.tenant_id, id: row.id }));
}
