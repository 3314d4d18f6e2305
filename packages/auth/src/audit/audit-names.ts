/**
 * Names for the ids in audit rows, for people reading the log: users by e-mail and display name,
 * API keys by name and prefix, each only where the reader may see that kind of record (a key
 * without `users:read` sees no addresses). Names come from the live rows, never from the audit
 * row, so once a subject is erased (their user row deleted) their id stays a bare pseudonym
 * (docs/design.md "Privacy"). Also resolves a free-text search over target names to the ids it
 * names. Both read the caller's tenant only (RLS).
 */
import type { TenantTx } from '@tessera/db';

export type AuditPartyKind = 'user' | 'api_key';

export interface AuditPartyName {
  kind: AuditPartyKind;
  /** E-mail address for users, name for API keys. */
  label: string;
  /** Display name for users, key prefix for API keys. */
  detail: string | null;
}

/** Which kinds of record the reader may see by name. */
export interface NameVisibility {
  users: boolean;
  apiKeys: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_MATCHES = 100;

const NAMES_SQL = `
  SELECT u.id::text AS id, 'user' AS kind, u.email AS label, u.display_name AS detail
    FROM public.users u WHERE $2 AND u.id = ANY($1::uuid[])
  UNION ALL
  SELECT k.id::text, 'api_key', k.name, k.prefix
    FROM public.api_keys k WHERE $3 AND k.id = ANY($1::uuid[])`;

export async function auditPartyNames(
  tx: TenantTx,
  ids: Iterable<string | null>,
  visible: NameVisibility,
): Promise<Record<string, AuditPartyName>> {
  const uuids = [...new Set([...ids].filter((id): id is string => id !== null && UUID.test(id)))];
  if (uuids.length === 0 || (!visible.users && !visible.apiKeys)) return {};
  const { rows } = await tx.client.query<AuditPartyName & { id: string }>({
    name: 'tessera_audit_party_names',
    text: NAMES_SQL,
    values: [uuids, visible.users, visible.apiKeys],
  });
  return Object.fromEntries(
    rows.map(({ id, kind, label, detail }) => [id, { kind, label, detail }]),
  );
}

const SEARCH_SQL = `
  (SELECT u.id::text AS id FROM public.users u
    WHERE $2 AND (u.email ILIKE $1 OR u.display_name ILIKE $1) LIMIT ${MAX_MATCHES})
  UNION ALL
  (SELECT k.id::text FROM public.api_keys k WHERE $3 AND k.name ILIKE $1 LIMIT ${MAX_MATCHES})`;

/**
 * The target ids a free-text search names: users whose e-mail or display name contains it, API
 * keys whose name contains it (each only where visible), and the text itself taken as an id.
 */
export async function targetIdsMatching(
  tx: TenantTx,
  text: string,
  visible: NameVisibility,
): Promise<string[]> {
  const needle = text.trim();
  if (needle === '') return [];
  const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const { rows } = await tx.client.query<{ id: string }>({
    name: 'tessera_audit_target_search',
    text: SEARCH_SQL,
    values: [pattern, visible.users, visible.apiKeys],
  });
  return [...new Set([needle, ...rows.map((row) => row.id)])];
}
