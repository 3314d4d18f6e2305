/**
 * Deletes spent short-lived authentication rows across tenants (migrations 0016, 0018): MFA and
 * WebAuthn challenges and one-time codes a day after expiry, remembered devices 30 days after
 * expiry or revocation. The function measures those bounds on the database clock; nobody can
 * pass it a time. Run by the scheduled upkeep job; returns how many rows each kind lost.
 */
import type { Database } from '@tessera/db';

export async function pruneSpentAuthArtifacts(
  database: Pick<Database, 'pool'>,
): Promise<Record<string, number>> {
  const { rows } = await database.pool.query<{ kind: string; removed: string }>(
    'SELECT kind, removed FROM public.prune_spent_auth_artifacts()',
  );
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.removed)]));
}
