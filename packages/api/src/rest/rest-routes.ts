/**
 * The REST face's routes: each runs one tRPC procedure that API keys may call (its
 * `meta({ access: { scope } })`, or `apiKeyOnly`). Paths use OpenAPI's `{name}` form; a path
 * parameter becomes the input field of the same name. GET routes read the rest of the input from
 * the query string, POST routes from the JSON body. A test fails when a key-callable procedure
 * has no route here (rest-routes.test.ts).
 */
export const REST_PREFIX = '/api/v1';

export interface RestRoute {
  method: 'GET' | 'POST';
  /** Below REST_PREFIX, OpenAPI path syntax. */
  path: string;
  procedure: string;
  tag: 'Users' | 'Audit' | 'Privacy requests' | 'Privacy webhooks' | 'API keys';
  summary: string;
}

export const restRoutes: readonly RestRoute[] = [
  {
    method: 'GET',
    path: '/users',
    procedure: 'users.list',
    tag: 'Users',
    summary: "List the tenant's users",
  },
  {
    method: 'GET',
    path: '/audit/events',
    procedure: 'audit.list',
    tag: 'Audit',
    summary: 'List audit events, newest first',
  },
  {
    method: 'GET',
    path: '/audit/verify',
    procedure: 'audit.verify',
    tag: 'Audit',
    summary: "Verify the audit log's hash chain and signed checkpoints",
  },
  {
    method: 'GET',
    path: '/privacy/requests',
    procedure: 'compliance.listRequests',
    tag: 'Privacy requests',
    summary: 'List data-subject requests',
  },
  {
    method: 'POST',
    path: '/privacy/requests',
    procedure: 'compliance.createRequest',
    tag: 'Privacy requests',
    summary: 'Start an export or an erasure on behalf of a user',
  },
  {
    method: 'GET',
    path: '/privacy/requests/{requestId}/download',
    procedure: 'privacy.exportDownload',
    tag: 'Privacy requests',
    summary: 'Get a short-lived download link for a finished export',
  },
  {
    method: 'GET',
    path: '/privacy/webhooks',
    procedure: 'privacy.webhooks.list',
    tag: 'Privacy webhooks',
    summary: 'List webhook endpoints',
  },
  {
    method: 'GET',
    path: '/privacy/webhook-deliveries',
    procedure: 'privacy.webhooks.deliveries',
    tag: 'Privacy webhooks',
    summary: 'List webhook deliveries',
  },
  {
    method: 'POST',
    path: '/privacy/webhook-deliveries/{deliveryId}/acknowledge',
    procedure: 'privacy.webhooks.acknowledge',
    tag: 'Privacy webhooks',
    summary: 'Acknowledge a delivery an erasure waits for',
  },
  {
    method: 'GET',
    path: '/api-keys',
    procedure: 'apiKeys.list',
    tag: 'API keys',
    summary: "List the tenant's API keys",
  },
  {
    method: 'POST',
    path: '/api-keys',
    procedure: 'apiKeys.create',
    tag: 'API keys',
    summary: 'Create an API key (with at most the calling key’s scopes)',
  },
  {
    method: 'POST',
    path: '/api-keys/{id}/revoke',
    procedure: 'apiKeys.revoke',
    tag: 'API keys',
    summary: 'Revoke an API key',
  },
  {
    method: 'POST',
    path: '/api-keys/{id}/rotate',
    procedure: 'apiKeys.rotate',
    tag: 'API keys',
    summary: 'Rotate an API key; the old one works until the grace ends',
  },
  {
    method: 'POST',
    path: '/api-keys/self/revoke',
    procedure: 'apiKeys.revokeSelf',
    tag: 'API keys',
    summary: 'Revoke the calling key itself',
  },
];

/** `{name}` path parameters of an OpenAPI path, in order. */
export function pathParamsOf(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => match[1] ?? '');
}

/** The Fastify spelling of an OpenAPI path (`{id}` -> `:id`). */
export function fastifyPathOf(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}
