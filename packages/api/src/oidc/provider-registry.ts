/**
 * The tenants' providers, built on first use and kept for `refreshSeconds`; after that the key
 * set is read again and the provider rebuilt only when it changed. Nothing else is cached: clients,
 * grants and tokens are read through the adapter on every request, so a revoked client or grant
 * stops working at once on every node. A rotated key is published `OIDC_KEY_ACTIVATION_SECONDS`
 * before it signs (twice the refresh period), so every node's JWKS shows it before any token
 * signed with it exists.
 */
import type { PepperRing } from '@tessera/auth/api-keys';
import type { Keyring } from '@tessera/auth/crypto';
import {
  generateSigningKey,
  hasActiveSigningKey,
  insertSigningKey,
  loadProviderKeys,
} from '@tessera/auth/oidc';
import { lookupTenantBySlug, withTenant, type Database, type TenantRef } from '@tessera/db';
import type Provider from 'oidc-provider';
import { createTenantProvider } from './provider-factory.js';

export const OIDC_REFRESH_SECONDS = 30;
export const OIDC_KEY_ACTIVATION_SECONDS = 2 * OIDC_REFRESH_SECONDS;

export interface TenantProvider {
  tenant: TenantRef;
  provider: Provider;
  callback: ReturnType<Provider['callback']>;
}

interface Entry {
  built: Promise<TenantProvider | null>;
  fingerprint: string;
  checkedAt: number;
}

export interface TenantProvidersOptions {
  database: Database;
  keyring: Keyring;
  peppers: PepperRing;
  publicUrl: string;
  proxy: boolean;
  loopbackOutbound: boolean;
  refreshSeconds?: number;
}

export class TenantProviders {
  readonly #entries = new Map<string, Entry>();
  readonly #options: TenantProvidersOptions;

  constructor(options: TenantProvidersOptions) {
    this.#options = options;
  }

  /** The provider of the tenant `slug`, or null when no such tenant exists. */
  async forSlug(slug: string): Promise<TenantProvider | null> {
    const known = this.#entries.get(slug);
    const refreshMs = (this.#options.refreshSeconds ?? OIDC_REFRESH_SECONDS) * 1000;
    if (known && Date.now() - known.checkedAt < refreshMs) return known.built;
    const entry = await this.#load(slug, known);
    return entry.built;
  }

  async #load(slug: string, known: Entry | undefined): Promise<Entry> {
    const { database } = this.#options;
    const tenant = await lookupTenantBySlug(database.pool, slug);
    if (!tenant) {
      const missing: Entry = {
        built: Promise.resolve(null),
        fingerprint: '',
        checkedAt: Date.now(),
      };
      this.#entries.set(slug, missing);
      return missing;
    }
    const keys = await this.#keysOf(tenant);
    const fingerprint = `${tenant.id}|${keys.map((k) => `${k.kid}:${k.key_ops ? 'v' : 's'}`).join(',')}`;
    if (known && known.fingerprint === fingerprint) {
      known.checkedAt = Date.now();
      return known;
    }
    const provider = await createTenantProvider({ ...this.#options, tenant, keys });
    const entry: Entry = {
      built: Promise.resolve({ tenant, provider, callback: provider.callback() }),
      fingerprint,
      checkedAt: Date.now(),
    };
    this.#entries.set(slug, entry);
    return entry;
  }

  async #keysOf(tenant: TenantRef) {
    const { database, keyring } = this.#options;
    const now = new Date();
    const ready = await withTenant(database, tenant.id, (tx) => hasActiveSigningKey(tx, now), {
      readOnly: true,
    });
    if (!ready) {
      const key = await generateSigningKey(); // CPU work outside the transaction
      await withTenant(database, tenant.id, (tx) => insertSigningKey(tx, key, keyring, now, now));
    }
    return withTenant(database, tenant.id, (tx) => loadProviderKeys(tx, keyring, new Date()), {
      readOnly: true,
    });
  }
}
