import { isoColumn as ISO } from './identity-sources.js';
import { affected, tableExists, type PersonalDataSource } from './personal-data-source.js';

/**
 * The apps the user authorised through the tenant's OpenID Provider (docs/oidc-provider.md): one
 * row per grant. Erasure deletes everything the provider holds for the user (grants, codes,
 * refresh tokens, its sessions) and removes their name from the apps they registered as an admin.
 */
export const oidcSource: PersonalDataSource = {
  name: 'authorized_apps',
  description: 'Apps you allowed to sign you in, with the permissions you gave them.',
  tables: ['oidc_payloads', 'oidc_clients'],
  columns: ['app', 'scope', 'authorizedAt'],
  query: `SELECT coalesce(c.name, p.client_id) AS "app",
            concat_ws(' ', p.payload #>> '{openid,scope}',
              (SELECT string_agg(v, ' ') FROM jsonb_each_text(coalesce(p.payload -> 'resources', '{}'::jsonb)) AS r(k, v))) AS "scope",
            ${ISO('p.created_at', 'authorizedAt')}
          FROM public.oidc_payloads p
          LEFT JOIN public.oidc_clients c ON c.tenant_id = p.tenant_id AND c.client_id = p.client_id
         WHERE p.kind = 'Grant' AND p.account_id = $1::text`,
  isAvailable: (tx) => tableExists(tx, 'oidc_payloads'),
  erase: async (tx, subject) =>
    (await affected(tx, 'DELETE FROM public.oidc_payloads WHERE account_id = $1::text', [
      subject.userId,
    ])) +
    (await affected(
      tx,
      'UPDATE public.oidc_clients SET created_by = NULL WHERE created_by = $1::uuid',
      [subject.userId],
    )),
};
