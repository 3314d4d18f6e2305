import { desc } from 'drizzle-orm';
import { apiKeys, type TenantTx } from '@tessera/db';
import { toApiKeyView, viewColumns, type ApiKeyView } from './api-key-view.js';

export const MAX_LISTED_API_KEYS = 1000;

/** The tenant's keys, newest first, revoked ones included; never a key or its hash. */
export async function listApiKeys(tx: TenantTx): Promise<ApiKeyView[]> {
  const rows = await tx
    .select(viewColumns)
    .from(apiKeys)
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(MAX_LISTED_API_KEYS);
  return rows.map(toApiKeyView);
}
