/**
 * Privacy webhooks (Art. 19): endpoints the subject registered and erasure
 * acknowledgements they gave, as metadata (never the signing secret). Erasure keeps the tenant's
 * endpoints and log and clears the subject's id from them. Delivery bodies name subjects by user
 * id only, a pseudonym once the user row is gone (docs/design.md "Privacy").
 */
import { isoColumn as ISO } from './identity-sources.js';
import { affected, type PersonalDataSource } from './personal-data-source.js';

export const privacyWebhooksSource: PersonalDataSource = {
  name: 'privacy_webhooks',
  description:
    'Data-protection webhook endpoints you registered for your organisation, and erasure notices you acknowledged (never the signing secrets).',
  tables: ['privacy_webhook_endpoints', 'privacy_webhook_deliveries'],
  columns: ['relation', 'id', 'url', 'description', 'eventType', 'createdAt'],
  query: `SELECT 'endpoint_registered' AS "relation", id::text AS "id", url AS "url", description AS "description", NULL::text AS "eventType",
            ${ISO('created_at', 'createdAt')}
          FROM public.privacy_webhook_endpoints WHERE created_by = $1::uuid
          UNION ALL
          SELECT 'delivery_acknowledged', id::text, NULL, NULL, event_type, ${ISO('acknowledged_at', 'acknowledgedAt')}
          FROM public.privacy_webhook_deliveries WHERE acknowledged_by = $1::uuid AND acknowledged_by_type = 'user'
          ORDER BY 6, 2`,
  erase: async (tx, subject) =>
    (await affected(
      tx,
      'UPDATE public.privacy_webhook_endpoints SET created_by = NULL WHERE created_by = $1::uuid',
      [subject.userId],
    )) +
    (await affected(
      tx,
      `UPDATE public.privacy_webhook_deliveries SET acknowledged_by = NULL WHERE acknowledged_by = $1::uuid AND acknowledged_by_type = 'user'`,
      [subject.userId],
    )),
};
