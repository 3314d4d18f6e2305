/**
 * oidc-provider's storage adapter for one tenant: every call is one transaction in that tenant
 * (`withTenant`), so RLS keeps each tenant's provider to its own grants and tokens. Clients come
 * from `oidc_clients` (registered in the console), everything else from `oidc_payloads`
 * (@tessera/auth/oidc payload-store.ts: ids hashed, consumed rows marked).
 */
import {
  consumeOidcPayload,
  destroyOidcPayload,
  findOidcClientMetadata,
  findOidcPayload,
  findOidcPayloadBy,
  revokeOidcGrant,
  upsertOidcPayload,
} from '@tessera/auth/oidc';
import type { Keyring } from '@tessera/auth/crypto';
import { withTenant, type Database } from '@tessera/db';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

export function tenantAdapter(
  database: Database,
  tenantId: string,
  keyring: Keyring,
): AdapterFactory {
  const run = <T>(work: Parameters<typeof withTenant<T>>[2]): Promise<T> =>
    withTenant(database, tenantId, work);
  return (kind: string): Adapter => {
    if (kind === 'Client') {
      return {
        find: async (id) =>
          (await run<AdapterPayload | null>((tx) => findOidcClientMetadata(tx, id))) ?? undefined,
        upsert: async () => undefined, // dynamic registration is off: clients come from the console
        findByUid: async () => undefined,
        findByUserCode: async () => undefined,
        consume: async () => undefined,
        destroy: async () => undefined,
        revokeByGrantId: async () => undefined,
      };
    }
    return {
      upsert: (id, payload, expiresIn) =>
        run((tx) =>
          upsertOidcPayload(tx, keyring, { kind, id, payload, expiresInSeconds: expiresIn }),
        ),
      find: (id) => run((tx) => findOidcPayload(tx, kind, id)),
      findByUid: (uid) => run((tx) => findOidcPayloadBy(tx, keyring, kind, 'uid', uid)),
      findByUserCode: (code) => run((tx) => findOidcPayloadBy(tx, keyring, kind, 'userCode', code)),
      consume: (id) => run((tx) => consumeOidcPayload(tx, kind, id)),
      destroy: (id) => run((tx) => destroyOidcPayload(tx, kind, id)),
      revokeByGrantId: (grantId) => run((tx) => revokeOidcGrant(tx, grantId)),
    };
  };
}
