import { z } from 'zod';

/** Privacy and compliance inputs (docs/design.md "Public contract"); strict and bounded (docs/contributing.md convention 8). */
export const privacyRequestType = z.enum(['export', 'deletion']);
export const privacyExportFormat = z.enum(['json', 'csv', 'pdf']);
export const privacyRequestStatus = z.enum([
  'pending',
  'processing',
  'completed',
  'failed',
  'rejected',
  'blocked',
]);
const reason = z.string().trim().min(1).max(1000);

export const requestExportInput = z.strictObject({ format: privacyExportFormat });
export type RequestExportInput = z.infer<typeof requestExportInput>;

export const exportDownloadInput = z.strictObject({ requestId: z.uuid() });
export type ExportDownloadInput = z.infer<typeof exportDownloadInput>;

export const listPrivacyRequestsInput = z
  .strictObject({
    status: privacyRequestStatus.optional(),
    type: privacyRequestType.optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();
export type ListPrivacyRequestsInput = z.infer<typeof listPrivacyRequestsInput>;

export const createPrivacyRequestInput = z
  .strictObject({
    userId: z.uuid(),
    type: privacyRequestType,
    format: privacyExportFormat.optional(),
  })
  .refine((input) => (input.type === 'export') === (input.format !== undefined), {
    message: 'exports need a format; erasure takes none',
    path: ['format'],
  });
export type CreatePrivacyRequestInput = z.infer<typeof createPrivacyRequestInput>;

export const placeLegalHoldInput = z.strictObject({ userId: z.uuid(), reason });
export type PlaceLegalHoldInput = z.infer<typeof placeLegalHoldInput>;

export const releaseLegalHoldInput = z.strictObject({ holdId: z.uuid() });
export type ReleaseLegalHoldInput = z.infer<typeof releaseLegalHoldInput>;

export const rejectPrivacyRequestInput = z.strictObject({ id: z.uuid(), reason });
export type RejectPrivacyRequestInput = z.infer<typeof rejectPrivacyRequestInput>;

export const extendPrivacyDeadlineInput = z.strictObject({
  id: z.uuid(),
  months: z.number().int().min(1).max(2),
  reason,
});
export type ExtendPrivacyDeadlineInput = z.infer<typeof extendPrivacyDeadlineInput>;

/** privacy.webhooks.* (Art. 19 propagation; docs/privacy.md "Webhooks"). */
export const privacyWebhookEvent = z.enum([
  'privacy.export.started',
  'privacy.export.completed',
  'privacy.erasure.started',
  'privacy.erasure.completed',
]);
export const privacyWebhookDeliveryStatus = z.enum([
  'pending',
  'delivered',
  'acknowledged',
  'failed',
  'cancelled',
]);
// The outbound rule (https, public addresses in production) is applied by the service, after DNS.
const webhookUrl = z.string().trim().min(1).max(2048);
const webhookEvents = z.array(privacyWebhookEvent).min(1).max(privacyWebhookEvent.options.length);
const requireAckNeedsStarted = (input: {
  events?: string[] | undefined;
  requireAck?: boolean | undefined;
}): boolean =>
  !input.requireAck ||
  input.events === undefined ||
  input.events.includes('privacy.erasure.started');
const requireAckMessage = {
  message: 'an endpoint that acknowledges erasures must receive privacy.erasure.started',
  path: ['requireAck'],
};

export const createPrivacyWebhookInput = z
  .strictObject({
    url: webhookUrl,
    description: z.string().trim().min(1).max(200).optional(),
    /** Default: every event. */
    events: webhookEvents.optional(),
    /** The tenant's erasures wait for this endpoint's acknowledgement of privacy.erasure.started. */
    requireAck: z.boolean().optional(),
  })
  .refine(requireAckNeedsStarted, requireAckMessage);
export type CreatePrivacyWebhookInput = z.infer<typeof createPrivacyWebhookInput>;

export const updatePrivacyWebhookInput = z
  .strictObject({
    id: z.uuid(),
    url: webhookUrl.optional(),
    description: z.string().trim().min(1).max(200).nullable().optional(),
    events: webhookEvents.optional(),
    requireAck: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .refine(requireAckNeedsStarted, requireAckMessage);
export type UpdatePrivacyWebhookInput = z.infer<typeof updatePrivacyWebhookInput>;

export const privacyWebhookIdInput = z.strictObject({ id: z.uuid() });
export type PrivacyWebhookIdInput = z.infer<typeof privacyWebhookIdInput>;

export const rotatePrivacyWebhookSecretInput = z.strictObject({
  id: z.uuid(),
  /** The previous secret keeps signing (a second `v1=`) this long; default 0, at most 24 h. */
  graceSeconds: z.number().int().min(0).max(86_400).optional(),
});
export type RotatePrivacyWebhookSecretInput = z.infer<typeof rotatePrivacyWebhookSecretInput>;

export const listPrivacyWebhookDeliveriesInput = z
  .strictObject({
    endpointId: z.uuid().optional(),
    requestId: z.uuid().optional(),
    status: privacyWebhookDeliveryStatus.optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();
export type ListPrivacyWebhookDeliveriesInput = z.infer<typeof listPrivacyWebhookDeliveriesInput>;

export const acknowledgePrivacyWebhookInput = z.strictObject({ deliveryId: z.uuid() });
export type AcknowledgePrivacyWebhookInput = z.infer<typeof acknowledgePrivacyWebhookInput>;
