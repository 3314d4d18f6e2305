/**
 * Platform-wide OIDC providers (e.g. Google, Microsoft Entra ID), configured by the operator for
 * every tenant; each tenant opts in per provider (sso_settings.platform_providers). Parsed from a
 * plain record so apps/server/src/config.ts stays the only reader of the environment:
 *
 *   SSO_PROVIDERS=google,entra
 *   SSO_GOOGLE_ISSUER=https://accounts.google.com
 *   SSO_GOOGLE_CLIENT_ID=...
 *   SSO_GOOGLE_CLIENT_SECRET=...        (or SSO_GOOGLE_CLIENT_SECRET_FILE=/run/secrets/google)
 *   SSO_GOOGLE_NAME=Google              (button label; default: the id)
 */
import { parseOutboundUrl, type OutboundMode } from '../outbound/outbound-url.js';

export interface PlatformProvider {
  /** `^[a-z][a-z0-9-]{1,39}$`; also the callback path segment: /auth/callback/<id>. */
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** What tenants and the console may see of a platform provider. */
export interface PlatformProviderInfo {
  id: string;
  name: string;
}

/** The provider key of a tenant's own connection (user_identities.provider). */
export const TENANT_PROVIDER = 'tenant';
export const PROVIDER_ID = /^[a-z][a-z0-9-]{1,39}$/;

export class PlatformProviderConfigError extends Error {
  override readonly name = 'PlatformProviderConfigError';
  constructor(
    readonly variables: readonly string[],
    detail: string,
  ) {
    super(detail); // names variables, never values
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function platformProviderInfo(
  providers: readonly PlatformProvider[],
): PlatformProviderInfo[] {
  return providers.map(({ id, name }) => ({ id, name }));
}

/** Reads SSO_PROVIDERS and its per-provider variables; throws naming the bad variables. */
export function parsePlatformProviders(
  env: Env,
  mode: OutboundMode,
  readFile: (file: string) => string,
): PlatformProvider[] {
  const ids = (env['SSO_PROVIDERS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const seen = new Set<string>();
  return ids.map((id) => {
    if (
      !PROVIDER_ID.test(id) ||
      id === TENANT_PROVIDER ||
      id.startsWith('tenant-') ||
      seen.has(id)
    ) {
      throw new PlatformProviderConfigError(
        ['SSO_PROVIDERS'],
        'SSO_PROVIDERS must list distinct ids matching ^[a-z][a-z0-9-]{1,39}$, not "tenant" or "tenant-*"',
      );
    }
    seen.add(id);
    const prefix = `SSO_${id.toUpperCase().replace(/-/g, '_')}_`;
    const get = (name: string): string => {
      const value = env[prefix + name]?.trim();
      if (!value)
        throw new PlatformProviderConfigError([prefix + name], `${prefix}${name} is required`);
      return value;
    };
    const issuer = get('ISSUER');
    try {
      parseOutboundUrl(issuer, { mode });
    } catch (error) {
      throw new PlatformProviderConfigError(
        [`${prefix}ISSUER`],
        `${prefix}ISSUER: ${(error as Error).message}`,
      );
    }
    return {
      id,
      name: env[`${prefix}NAME`]?.trim() || id,
      issuer,
      clientId: get('CLIENT_ID'),
      clientSecret: secretOf(env, `${prefix}CLIENT_SECRET`, readFile),
    };
  });
}

function secretOf(env: Env, name: string, readFile: (file: string) => string): string {
  const file = env[`${name}_FILE`];
  if (file && env[name])
    throw new PlatformProviderConfigError(
      [name, `${name}_FILE`],
      `set only one of ${name} and ${name}_FILE`,
    );
  if (file) {
    try {
      const value = readFile(file).trim();
      if (value) return value;
    } catch {
      // fall through: same message whether unreadable or empty
    }
    throw new PlatformProviderConfigError(
      [`${name}_FILE`],
      `${name}_FILE: cannot read a secret from the file it names`,
    );
  }
  const value = env[name]?.trim();
  if (!value) throw new PlatformProviderConfigError([name], `${name} is required`);
  return value;
}
