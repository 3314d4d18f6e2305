/**
 * Tessera as the OpenID Provider of each tenant's own apps (docs/oidc-provider.md): the provider
 * mount (oidc-http.ts) and the sign-in/consent interactions (interactions.ts), in one encapsulated
 * scope whose requests Fastify does not parse (oidc-provider reads its own bodies).
 */
import type { PepperRing } from '@tessera/auth/api-keys';
import type { Keyring } from '@tessera/auth/crypto';
import type { Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../build-server.js';
import type { ApiConfig } from '../config.js';
import { registerInteractions } from './interactions.js';
import { registerProviderMount } from './oidc-http.js';
import { TenantProviders } from './provider-registry.js';

export interface OidcProviderPluginOptions {
  database: Database;
  keyring: Keyring;
  peppers: PepperRing;
  publicUrl: string;
  /** TRUST_PROXY is set: the provider reads the protocol and client IP the proxy forwarded. */
  proxy: boolean;
  /**
   * Outside production, back-channel logout may reach an app on a loopback address (development,
   * tests); oidc-provider refuses every special-use address otherwise (SSRF protection).
   */
  loopbackOutbound?: boolean;
  now?: () => Date;
  /** Seconds between key-set checks (tests shorten it). */
  refreshSeconds?: number;
}

export async function oidcProviderPlugin(
  app: FastifyInstance,
  options: OidcProviderPluginOptions,
): Promise<void> {
  const providers = new TenantProviders({
    database: options.database,
    keyring: options.keyring,
    peppers: options.peppers,
    publicUrl: options.publicUrl,
    proxy: options.proxy,
    loopbackOutbound: options.loopbackOutbound ?? false,
    ...(options.refreshSeconds !== undefined ? { refreshSeconds: options.refreshSeconds } : {}),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  registerInteractions(app, {
    providers,
    database: options.database,
    publicUrl: options.publicUrl,
    now: options.now ?? (() => new Date()),
  });
  registerProviderMount(app, providers);
}

/** The plugin's options from the server's config and dependencies (build-server.ts). */
export function oidcProviderOptionsOf(
  config: Pick<ApiConfig, 'publicUrl' | 'trustProxy' | 'nodeEnv'>,
  deps: Pick<ServerDeps, 'database' | 'services'>,
  now: () => Date,
): OidcProviderPluginOptions {
  return {
    database: deps.database,
    keyring: deps.services.accounts.keyring,
    peppers: deps.services.apiKeys.peppers,
    publicUrl: config.publicUrl,
    proxy: config.trustProxy !== false,
    loopbackOutbound: config.nodeEnv !== 'production',
    now,
  };
}
