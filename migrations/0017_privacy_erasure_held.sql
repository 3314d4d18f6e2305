-- Art. 19 follow-up events (docs/privacy.md "Webhooks"): when a legal hold blocks an erasure whose
-- `privacy.erasure.started` already went out (an erasure waiting for acknowledgements), the
-- endpoints that got it are told `privacy.erasure.held`, and `privacy.erasure.resumed` when the
-- last hold is released. Not subscribable on their own: they follow `privacy.erasure.started`.
ALTER TABLE public.privacy_webhook_deliveries DROP CONSTRAINT privacy_webhook_deliveries_event_type_check;
ALTER TABLE public.privacy_webhook_deliveries ADD CONSTRAINT privacy_webhook_deliveries_event_type_check
  CHECK (event_type IN ('privacy.export.started', 'privacy.export.completed', 'privacy.erasure.started',
                        'privacy.erasure.completed', 'privacy.erasure.held', 'privacy.erasure.resumed'));
