import { z } from 'zod';
import {
  privacyExportFormat,
  privacyRequestStatus,
  privacyRequestType,
  privacyWebhookDeliveryStatus,
  privacyWebhookEvent,
} from '../inputs/privacy.js';
import { isoInstant, nullableInstant, uuidString } from './common.js';

/** A request as compliance staff and keys see it (no e-mail address: the user id is enough). */
export const complianceRequestOutput = z.object({
  id: uuidString,
  type: privacyRequestType,
  status: privacyRequestStatus,
  format: privacyExportFormat.nullable(),
  requestedAt: isoInstant,
  dueAt: isoInstant,
  completedAt: nullableInstant,
  /** When the export file expires; null for erasure or before completion. */
  expiresAt: nullableInstant,
  userId: uuidString,
  requestedBy: z.object({ type: z.enum(['user', 'api_key', 'scim_token']), id: z.string() }),
  originalDueAt: isoInstant,
  extendedMonths: z.number().int(),
  extensionReason: z.string().nullable(),
  rejectionReason: z.string().nullable(),
  failureReason: z.string().nullable(),
  attempts: z.number().int(),
  exportAvailable: z.boolean(),
});

export const listPrivacyRequestsOutput = z.object({
  items: z.array(complianceRequestOutput),
  nextCursor: z.string().nullable(),
});
/** `created` is false when an open request of that type already existed (it is returned instead). */
export const createPrivacyRequestOutput = z.object({
  request: complianceRequestOutput,
  created: z.boolean(),
});
/** A short-lived, single-purpose download link. */
export const exportDownloadOutput = z.object({ url: z.string(), expiresAt: isoInstant });

export const webhookEndpointOutput = z.object({
  id: uuidString,
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(privacyWebhookEvent),
  requireAck: z.boolean(),
  enabled: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
  secretRotatedAt: nullableInstant,
  /** Until then the previous secret signs too (rotation grace). */
  previousSecretExpiresAt: nullableInstant,
  disabledAt: nullableInstant,
});
export const listWebhookEndpointsOutput = z.array(webhookEndpointOutput);

export const webhookDeliveryOutput = z.object({
  id: uuidString,
  endpointId: z.string().nullable(),
  requestId: z.string(),
  eventId: z.string(),
  eventType: privacyWebhookEvent,
  status: privacyWebhookDeliveryStatus,
  /** This delivery holds the request's erasure until acknowledged. */
  requiresAck: z.boolean(),
  attempts: z.number().int(),
  attemptLog: z.array(
    z.object({
      attempt: z.number().int(),
      at: isoInstant,
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number(),
    }),
  ),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: nullableInstant,
  deliveredAt: nullableInstant,
  acknowledgedAt: nullableInstant,
  acknowledgedBy: z
    .object({ type: z.enum(['response', 'user', 'api_key']), id: z.string().nullable() })
    .nullable(),
  createdAt: isoInstant,
  updatedAt: isoInstant,
});
export const listWebhookDeliveriesOutput = z.object({
  items: z.array(webhookDeliveryOutput),
  nextCursor: z.string().nullable(),
});
export const acknowledgeWebhookOutput = z.object({
  status: privacyWebhookDeliveryStatus,
  resumed: z.boolean(),
});
