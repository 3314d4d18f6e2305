/** Passkeys: metadata only; the public key and credential id are credentials, not exported. */
import { isoColumn as ISO } from './identity-sources.js';
import { affected, tableExists, type PersonalDataSource } from './personal-data-source.js';

export const passkeysSource: PersonalDataSource = {
  name: 'passkeys',
  description:
    'Passkeys you registered: name, kind (synced or single-device), backup state and dates (never the key or the credential id).',
  tables: ['webauthn_credentials', 'webauthn_challenges'],
  columns: ['id', 'name', 'deviceType', 'backedUp', 'createdAt', 'lastUsedAt'],
  query: `SELECT id::text AS "id", name AS "name", device_type AS "deviceType", backed_up AS "backedUp",
            ${ISO('created_at', 'createdAt')}, ${ISO('last_used_at', 'lastUsedAt')}
          FROM public.webauthn_credentials WHERE user_id = $1::uuid ORDER BY created_at, id`,
  isAvailable: (tx) => tableExists(tx, 'webauthn_credentials'),
  erase: async (tx, subject) =>
    (await affected(tx, 'DELETE FROM public.webauthn_challenges WHERE user_id = $1::uuid', [
      subject.userId,
    ])) +
    (await affected(tx, 'DELETE FROM public.webauthn_credentials WHERE user_id = $1::uuid', [
      subject.userId,
    ])),
};
