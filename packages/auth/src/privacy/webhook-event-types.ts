/** The events a privacy webhook delivery carries (docs/privacy.md "Webhooks"). */
export const PRIVACY_WEBHOOK_EVENTS = [
  'privacy.export.started',
  'privacy.export.completed',
  'privacy.erasure.started',
  'privacy.erasure.completed',
] as const;
/** What an endpoint subscribes to. */
export type PrivacyWebhookEvent = (typeof PRIVACY_WEBHOOK_EVENTS)[number];
/** Sent to the endpoints that got `privacy.erasure.started`, when a legal hold stops or frees it. */
export const ERASURE_FOLLOW_UP_EVENTS = [
  'privacy.erasure.held',
  'privacy.erasure.resumed',
] as const;
export type ErasureFollowUpEvent = (typeof ERASURE_FOLLOW_UP_EVENTS)[number];
/** Every event a delivery may carry. */
export type PrivacyWebhookEventType = PrivacyWebhookEvent | ErasureFollowUpEvent;
