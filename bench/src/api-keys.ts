/**
 * Scenario (e): an API-key authenticated call. Secret keys with scope `users:read` are minted
 * through the real `createApiKey` (one per read tenant, each in its tenant's transaction as the
 * runtime role, with its audit event), and the load calls `users.list` with
 * `Authorization: Bearer ...`, a page of PAGE_SIZE users like (b).
 */
import type { Services } from '@tessera/api-contract';
import { createApiKey } from '@tessera/auth/api-keys';
import { withTenant, type Database } from '@tessera/db';
import { PAGE_SIZE } from './bench-router.js';
import type { LoadRequest } from './load-types.js';
import { OWNER_EMAIL, type ReadSession } from './seed.js';

/**
 * The highest per-key limit a key may carry (createApiKey refuses more): raised like every other
 * limit in the bench, counted on every call, never reached.
 */
export const KEY_RATE_LIMIT = { max: 1_000_000, windowSeconds: 60 } as const;

export const USERS_LIST_PATH = `/trpc/users.list?input=${encodeURIComponent(JSON.stringify({ limit: PAGE_SIZE }))}`;

/** One secret key per tenant of `sessions`, minted by its owner; returns the clear keys. */
export async function seedApiKeys(
  app: Database,
  owner: Database,
  services: Services,
  sessions: readonly ReadSession[],
): Promise<string[]> {
  const tenantIds = sessions.map((session) => session.tenantId);
  const { rows } = await owner.pool.query<{ tenant_id: string; id: string }>(
    'SELECT tenant_id, id FROM public.users WHERE tenant_id = ANY($1::uuid[]) AND email = $2',
    [tenantIds, OWNER_EMAIL],
  );
  const ownerOf = new Map(rows.map((row) => [row.tenant_id, row.id]));
  const keys: string[] = [];
  for (const tenantId of tenantIds) {
    const userId = ownerOf.get(tenantId);
    if (!userId) throw new Error(`no owner in tenant ${tenantId}`);
    const minted = await withTenant(app, tenantId, (tx) =>
      createApiKey(
        tx,
        { actor: { type: 'user', id: userId }, deps: services.apiKeys, now: new Date() },
        {
          name: 'bench',
          type: 'secret',
          environment: 'live',
          scopes: ['users:read'],
          rateLimit: KEY_RATE_LIMIT,
        },
      ),
    );
    keys.push(minted.key);
  }
  return keys;
}

export const apiKeyRequests = (keys: readonly string[]): LoadRequest[] =>
  keys.map((key) => ({
    method: 'GET',
    path: USERS_LIST_PATH,
    headers: { authorization: `Bearer ${key}` },
  }));

/** users.list answers a full page with a key, and 401 without one or with a wrong one. */
export async function checkApiKeys(apiUrl: string, keys: readonly string[]): Promise<void> {
  const [request] = apiKeyRequests(keys);
  if (!request) throw new Error('no API keys seeded');
  const page = await fetch(`${apiUrl}${request.path}`, { headers: request.headers });
  const body = (await page.json()) as { result?: { data?: { items?: unknown[] } } };
  if (page.status !== 200 || body.result?.data?.items?.length !== PAGE_SIZE) {
    throw new Error(
      `users.list with an API key answered ${page.status}: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
  const anonymous = await fetch(`${apiUrl}${request.path}`);
  if (anonymous.status !== 401)
    throw new Error(`users.list without a key answered ${anonymous.status}, expected 401`);
}
