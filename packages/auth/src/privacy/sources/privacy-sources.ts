/**
 * This module's own tables. Requests and holds stay as history with the user id as a pseudonym;
 * erasure removes their free text, the subject's export files and download links, and fails their
 * open exports (an export running meanwhile holds the user row, so erasure waits for it). A legal hold's
 * reason is compliance's record and is not exported (Art. 23 restrictions may apply); its
 * existence and dates are.
 */
import { isoColumn as ISO } from './identity-sources.js';
import { affected, type PersonalDataSource } from './personal-data-source.js';

export const privacyRequestsSource: PersonalDataSource = {
  name: 'privacy_requests',
  description: 'Your data-protection requests (exports and erasure), their status and deadlines.',
  tables: [
    'privacy_requests',
    'privacy_export_chunks',
    'privacy_download_tokens',
    'privacy_erasure_ledger',
  ],
  columns: [
    'id',
    'type',
    'format',
    'status',
    'requestedAt',
    'dueAt',
    'extendedMonths',
    'extensionReason',
    'completedAt',
    'rejectionReason',
  ],
  query: `SELECT id::text AS "id", type AS "type", format AS "format", status AS "status", ${ISO('requested_at', 'requestedAt')},
            ${ISO('due_at', 'dueAt')}, extended_months AS "extendedMonths", extension_reason AS "extensionReason",
            ${ISO('completed_at', 'completedAt')}, rejection_reason AS "rejectionReason"
          FROM public.privacy_requests WHERE user_id = $1::uuid ORDER BY requested_at, id`,
  erase: async (tx, subject) =>
    (await affected(
      tx,
      `DELETE FROM public.privacy_download_tokens d USING public.privacy_requests r
                          WHERE d.request_id = r.id AND (r.user_id = $1::uuid OR d.created_by = $1::uuid)`,
      [subject.userId],
    )) +
    (await affected(
      tx,
      `DELETE FROM public.privacy_export_chunks c USING public.privacy_requests r
                          WHERE c.request_id = r.id AND r.user_id = $1::uuid`,
      [subject.userId],
    )) +
    (await affected(
      tx,
      `UPDATE public.privacy_requests SET status = 'failed', failure_reason = 'subject erased', completed_at = now(), updated_at = now()
                          WHERE user_id = $1::uuid AND type = 'export' AND status IN ('pending', 'processing', 'blocked')`,
      [subject.userId],
    )) +
    (await affected(
      tx,
      `UPDATE public.privacy_requests SET extension_reason = NULL, rejection_reason = NULL,
                            export_chunks = NULL, export_bytes = NULL, export_file_name = NULL, updated_at = now()
                          WHERE user_id = $1::uuid AND (extension_reason IS NOT NULL OR rejection_reason IS NOT NULL
                                OR export_chunks IS NOT NULL OR export_file_name IS NOT NULL)`,
      [subject.userId],
    )),
};

export const legalHoldsSource: PersonalDataSource = {
  name: 'legal_holds',
  description:
    'Legal holds that kept your data from erasure: when placed and released (the reason stays with compliance).',
  tables: ['privacy_legal_holds'],
  columns: ['id', 'placedAt', 'releasedAt'],
  query: `SELECT id::text AS "id", ${ISO('placed_at', 'placedAt')}, ${ISO('released_at', 'releasedAt')}
          FROM public.privacy_legal_holds WHERE user_id = $1::uuid ORDER BY placed_at, id`,
  // Runs only once no hold stands (erasure refuses otherwise), so every hold here is released.
  erase: (tx, subject) =>
    affected(
      tx,
      'UPDATE public.privacy_legal_holds SET reason = NULL WHERE user_id = $1::uuid AND released_at IS NOT NULL AND reason IS NOT NULL',
      [subject.userId],
    ),
};
