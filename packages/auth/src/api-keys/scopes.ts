/** The closed scope list (docs/api-keys.md). Publishable keys carry none. */
export const API_KEY_SCOPES = [
  'users:read',
  'users:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
  'api_keys:read',
  'api_keys:write',
] as const;

export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KNOWN: ReadonlySet<string> = new Set(API_KEY_SCOPES);

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return KNOWN.has(value);
}
