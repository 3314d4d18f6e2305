/**
 * Privacy webhooks (privacy.webhooks.*, GDPR Art. 19; docs/privacy.md "Webhooks"): the tenant's
 * endpoints that receive signed events when an export or an erasure starts and completes.
 * Owners and admins create, enable/disable, rotate and delete them here; the `whsec_` signing
 * secret is shown once (create, rotate) and kept in component state only, never stored. The
 * table is in `webhook-table.tsx`, the form in `webhook-form.tsx` and each endpoint's delivery
 * log in `webhook-deliveries.tsx`.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type JSX } from 'react';
import { QueryView } from '../../components/states';
import { ShownOnceSecret } from '../../components/shown-once';
import { api, queryClient } from '../../lib/trpc';
import { CreateWebhookForm } from './webhook-form';
import { EndpointTable, type Shown } from './webhook-table';

const LIST_KEY = ['privacy.webhooks.list'];

export function PrivacyWebhooksSection(): JSX.Element {
  const endpoints = useQuery({
    queryKey: LIST_KEY,
    queryFn: () => api.privacy.webhooks.list.query(),
  });
  const [shown, setShown] = useState<Shown | null>(null);
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });
  return (
    <section className="card" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Privacy webhooks</h2>
      <p>
        Your systems receive a signed event when an export or an erasure starts and completes, so
        they can erase their own copies (GDPR Art. 19). Events carry ids only, never personal data.
      </p>
      <QueryView query={endpoints} feature="Privacy webhooks">
        {(list) => (
          <>
            {shown ? (
              <ShownOnceSecret
                title={shown.title}
                secret={shown.secret}
                secretLabel="New webhook signing secret"
                copyLabel="Copy secret"
                onDone={() => setShown(null)}
              >
                <p>
                  Your receiver verifies the <code>Tessera-Signature</code> header with it.
                </p>
                {shown.note ? <p>{shown.note}</p> : null}
              </ShownOnceSecret>
            ) : null}
            <EndpointTable endpoints={list} onSecret={setShown} onChanged={reload} />
            <details className="create-webhook">
              <summary>Add a webhook endpoint</summary>
              <CreateWebhookForm
                onCreated={async (created) => {
                  setShown({
                    secret: created.secret,
                    title: `Signing secret for ${created.endpoint.url}`,
                  });
                  await reload();
                }}
              />
            </details>
          </>
        )}
      </QueryView>
    </section>
  );
}
