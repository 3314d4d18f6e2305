/**
 * The actions that occur in the tenant's audit log, for the audit page's action filter. A loose
 * index scan (one probe of audit_logs (tenant_id, action, seq) per distinct action, through a
 * recursive query) rather than a DISTINCT over every row: the cost follows the number of actions
 * (a hundred or so), not the length of the log.
 */
import type { TenantTx } from '@tessera/db';

export const MAX_AUDIT_ACTIONS = 500;

const SQL = `
  WITH RECURSIVE found(action) AS (
    (SELECT l.action FROM public.audit_logs l ORDER BY l.action LIMIT 1)
    UNION ALL
    SELECT (SELECT l.action FROM public.audit_logs l WHERE l.action > f.action ORDER BY l.action LIMIT 1)
    FROM found f WHERE f.action IS NOT NULL
  )
  SELECT action FROM found WHERE action IS NOT NULL LIMIT ${MAX_AUDIT_ACTIONS}`;

export async function auditActionsInUse(tx: TenantTx): Promise<string[]> {
  const { rows } = await tx.client.query<{ action: string }>({
    name: 'tessera_audit_actions',
    text: SQL,
  });
  return rows.map((row) => row.action);
}
