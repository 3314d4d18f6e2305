import { isoColumn as ISO } from './identity-sources.js';
import { affected, tableExists, type PersonalDataSource } from './personal-data-source.js';

/**
 * What the tenant's directory told us over SCIM (docs/scim.md): the user's directory name,
 * external id, given and family names, and the groups they belong to. Erasure removes the SCIM
 * link (and with it the memberships) and the user's name from the tokens they created.
 */
export const scimSource: PersonalDataSource = {
  name: 'directory',
  description:
    "What your organisation's directory provisioned over SCIM: user name, external id, names and groups.",
  tables: ['scim_users', 'scim_group_members', 'scim_tokens'],
  columns: [
    'userName',
    'externalId',
    'givenName',
    'familyName',
    'groups',
    'createdAt',
    'updatedAt',
  ],
  query: `SELECT s.user_name AS "userName", s.external_id AS "externalId", s.given_name AS "givenName",
            s.family_name AS "familyName",
            coalesce((SELECT string_agg(g.display_name, ', ' ORDER BY g.display_name)
                        FROM public.scim_group_members m JOIN public.scim_groups g ON g.id = m.group_id
                       WHERE m.user_id = s.user_id), '') AS "groups",
            ${ISO('s.created_at', 'createdAt')}, ${ISO('s.updated_at', 'updatedAt')}
          FROM public.scim_users s WHERE s.user_id = $1::uuid`,
  isAvailable: (tx) => tableExists(tx, 'scim_users'),
  erase: async (tx, subject) =>
    (await affected(tx, 'DELETE FROM public.scim_users WHERE user_id = $1::uuid', [
      subject.userId,
    ])) +
    (await affected(
      tx,
      'UPDATE public.scim_tokens SET created_by = NULL WHERE created_by = $1::uuid',
      [subject.userId],
    )),
};
