/**
 * audit.list's page with names: the filter as the services take it (a target search resolved to
 * ids first), then the names of the page's actor and target ids that this caller may see. Who may
 * see which names: staff sessions see users and keys; an API key sees users only with
 * `users:read` and keys only with `api_keys:read` (the scopes that would show it those records).
 */
import {
  readAuditEvents,
  targetIdsMatching,
  type AuditReader,
  type ListAuditEventsFilter,
  type NameVisibility,
  type NamedAuditPage,
} from '@tessera/auth/audit';
import type { TenantTx } from '@tessera/db';
import type { Principal } from '../context.js';
import type { ListAuditEventsInput } from '../inputs/audit.js';

type ListInput = NonNullable<ListAuditEventsInput>;
export type NamedListFilter = ListAuditEventsFilter & { target?: string | undefined };

export function nameVisibility(principal: Principal): NameVisibility {
  if (principal.kind === 'session') return { users: true, apiKeys: true };
  return {
    users: principal.scopes.includes('users:read'),
    apiKeys: principal.scopes.includes('api_keys:read'),
  };
}

export function toListFilter(input: ListInput): NamedListFilter {
  return {
    limit: input.limit,
    cursor: input.cursor,
    action: input.action,
    actorId: input.actorId,
    since: input.since === undefined ? undefined : new Date(input.since),
    until: input.until === undefined ? undefined : new Date(input.until),
    target: input.target,
  };
}

export async function readNamedPage(
  tx: TenantTx,
  principal: Principal,
  reader: AuditReader,
  filter: NamedListFilter,
): Promise<NamedAuditPage> {
  const visible = nameVisibility(principal);
  const { target, ...rest } = filter;
  return readAuditEvents(
    tx,
    reader,
    target === undefined
      ? rest
      : { ...rest, targetQuery: target, targetIds: await targetIdsMatching(tx, target, visible) },
    visible,
  );
}
