/** The form that adds a privacy webhook endpoint (privacy.webhooks.create). */
import { createPrivacyWebhookInput, privacyWebhookEvent } from '@tessera/api-contract/inputs';
import { useId, type FormEvent, type JSX } from 'react';
import { ChoiceGroup, FormAlert, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { api, type Inputs, type Outputs } from '../../lib/trpc';

type CreateInput = Inputs['privacy']['webhooks']['create'];

const EVENTS = privacyWebhookEvent.options;
const EVENT_LABELS: Record<(typeof EVENTS)[number], string> = {
  'privacy.export.started': 'Export started (privacy.export.started)',
  'privacy.export.completed': 'Export completed (privacy.export.completed)',
  'privacy.erasure.started': 'Erasure started (privacy.erasure.started)',
  'privacy.erasure.completed': 'Erasure completed (privacy.erasure.completed)',
};
const FIELDS = ['url', 'description', 'events', 'requireAck'];
const isUrl = (value: string): boolean => {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
};

export function CreateWebhookForm({
  onCreated,
}: {
  onCreated: (created: Outputs['privacy']['webhooks']['create']) => Promise<void>;
}): JSX.Element {
  const form = useForm(FIELDS);
  const ackId = useId();
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const raw = formValues(target);
    const url = (raw['url'] ?? '').trim();
    const description = (raw['description'] ?? '').trim();
    const events = new FormData(target)
      .getAll('events')
      .filter((e): e is (typeof EVENTS)[number] => (EVENTS as readonly unknown[]).includes(e));
    const requireAck = raw['requireAck'] === 'on';
    // Friendlier words than the schema's bounds for the two mistakes people make.
    const early: Record<string, string> = {};
    if (!url) early['url'] = 'Enter the URL that receives the events.';
    else if (!isUrl(url))
      early['url'] = 'Enter a full URL, e.g. https://hooks.example.com/tessera.';
    if (events.length === 0) early['events'] = 'Choose at least one event.';
    if (Object.keys(early).length > 0) return form.fail(early);
    const input: CreateInput = {
      url,
      events,
      requireAck,
      ...(description ? { description } : {}),
    };
    const created = await form.run(
      input,
      (data: CreateInput) => api.privacy.webhooks.create.mutate(data),
      createPrivacyWebhookInput,
    );
    if (!created) return;
    target.reset();
    await onCreated(created);
  };
  const ackError = form.errors['requireAck'];
  return (
    <form onSubmit={submit} noValidate className="grid-form" aria-label="Add a webhook endpoint">
      <FormAlert message={form.formError} />
      <TextField
        label="Endpoint URL"
        name="url"
        type="url"
        inputMode="url"
        required
        maxLength={2048}
        autoComplete="off"
        hint="https, reachable from the internet; redirects are not followed."
        error={form.errors['url']}
      />
      <TextField
        label="Description (optional)"
        name="description"
        maxLength={200}
        hint="What receives it, e.g. CRM erasure bridge."
        error={form.errors['description']}
      />
      <ChoiceGroup
        legend="Events"
        name="events"
        type="checkbox"
        defaultValue={EVENTS}
        error={form.errors['events']}
        options={EVENTS.map((e) => ({ value: e, label: EVENT_LABELS[e] }))}
      />
      <div className="field checkbox">
        <label>
          <input
            type="checkbox"
            name="requireAck"
            aria-invalid={ackError ? true : undefined}
            aria-describedby={`${ackId}-hint${ackError ? ` ${ackId}-error` : ''}`}
          />{' '}
          Erasure waits for acknowledgement
        </label>
        <p id={`${ackId}-hint`} className="hint">
          Erasures wait until this endpoint answers 2xx to privacy.erasure.started (or staff
          acknowledge it below). Needs the “Erasure started” event.
        </p>
        {ackError ? (
          <p id={`${ackId}-error`} className="field-error">
            {ackError}
          </p>
        ) : null}
      </div>
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Adding…">
          Add endpoint
        </SubmitButton>
      </div>
    </form>
  );
}
