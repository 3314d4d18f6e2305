/**
 * Deletes spent short-lived authentication rows across tenants (migration 0016): MFA and WebAuthn
 * challenges and one-time codes a day after expiry, remembered devices 30 days after expiry or
 * revocation. Run by the scheduled upkeep job; returns how many rows each kind lost.
 */
import type { Database } from '@tessera/db';

export async function pruneSpentAuthArtifacts(database: Pick<Database, 'pool'>, now: Date): Promise<Record<string, number>> {
  const { rows } = await database.pool.query<{ kind: string; removed: string }>('SELECT kind, removed FROM public.prune_spent_auth_artifacts($1)', [now]);
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.removed)]));
}
