/** The API key creation form: scopes, CIDR allowlist, rate limit, expiry. */
import { useState, type FormEvent, type JSX } from 'react';
import {
  ChoiceGroup,
  FormAlert,
  SubmitButton,
  TextAreaField,
  TextField,
} from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { api, type Inputs, type Outputs } from '../../lib/trpc';

type Created = Outputs['apiKeys']['create'];

/** The closed scope list (docs/api-keys.md). Publishable keys carry none. */
const SCOPES = [
  'users:read',
  'users:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
  'api_keys:read',
  'api_keys:write',
] as const;
const FIELDS = ['name', 'type', 'environment', 'scopes', 'allowedCidrs', 'rateLimit', 'expiresAt'];

/** Builds the create input from the form; the server's schema validates it. */
function createInput(form: HTMLFormElement): Inputs['apiKeys']['create'] {
  const raw = formValues(form);
  const data = new FormData(form);
  const type = raw['type'] === 'publishable' ? 'publishable' : 'secret';
  const input: Inputs['apiKeys']['create'] = {
    name: (raw['name'] ?? '').trim(),
    type,
    environment: raw['environment'] === 'live' ? 'live' : 'test',
    scopes:
      type === 'secret'
        ? data
            .getAll('scopes')
            .filter(
              (s): s is (typeof SCOPES)[number] =>
                typeof s === 'string' && (SCOPES as readonly string[]).includes(s),
            )
        : [],
  };
  const cidrs = (raw['allowedCidrs'] ?? '').split(/[\s,]+/).filter(Boolean);
  if (cidrs.length > 0) input.allowedCidrs = cidrs;
  if (raw['rateMax'] || raw['rateWindow'])
    input.rateLimit = {
      max: Number(raw['rateMax']),
      windowSeconds: Number(raw['rateWindow'] || 60),
    };
  if (raw['expiresAt']) input.expiresAt = new Date(raw['expiresAt']).toISOString();
  return input;
}

export function CreateKeyForm({
  onCreated,
}: {
  onCreated: (c: Created) => Promise<void>;
}): JSX.Element {
  const form = useForm(FIELDS);
  const [type, setType] = useState('secret');
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const input = createInput(target);
    if (!input.name) return form.fail({ name: 'Give the key a name.' });
    const created = await form.run(input, (data: Inputs['apiKeys']['create']) =>
      api.apiKeys.create.mutate(data),
    );
    if (!created) return;
    target.reset();
    setType('secret');
    await onCreated(created);
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <FormAlert message={form.formError} />
      <TextField
        label="Name"
        name="name"
        required
        maxLength={100}
        hint="What uses it, e.g. billing-service."
        error={form.errors['name']}
      />
      <ChoiceGroup
        legend="Type"
        name="type"
        type="radio"
        defaultValue={['secret']}
        onChange={(v) => setType(v[0] ?? 'secret')}
        error={form.errors['type']}
        options={[
          { value: 'secret', label: 'Secret (server to server)' },
          { value: 'publishable', label: 'Publishable (identifies your tenant in a browser)' },
        ]}
      />
      <ChoiceGroup
        legend="Environment"
        name="environment"
        type="radio"
        defaultValue={['test']}
        error={form.errors['environment']}
        options={[
          { value: 'test', label: 'Test' },
          { value: 'live', label: 'Live' },
        ]}
      />
      {type === 'secret' ? (
        <ChoiceGroup
          legend="Scopes"
          name="scopes"
          type="checkbox"
          error={form.errors['scopes']}
          hint="Grant only what the caller needs."
          options={SCOPES.map((s) => ({ value: s, label: s }))}
        />
      ) : null}
      <TextAreaField
        label="Allowed IP ranges (optional)"
        name="allowedCidrs"
        rows={2}
        hint="CIDRs, one per line, e.g. 203.0.113.0/24 or 2001:db8::/32. Empty: any address."
        error={form.errors['allowedCidrs']}
      />
      <fieldset className="inline" aria-describedby="rate-hint">
        <legend>Rate limit (optional)</legend>
        <TextField
          label="Requests"
          name="rateMax"
          type="number"
          min={1}
          inputMode="numeric"
          error={form.errors['rateLimit']}
        />
        <TextField
          label="per seconds"
          name="rateWindow"
          type="number"
          min={1}
          inputMode="numeric"
          placeholder="60"
        />
        <p id="rate-hint" className="hint">
          Empty: the server default.
        </p>
      </fieldset>
      <TextField
        label="Expires (optional)"
        name="expiresAt"
        type="datetime-local"
        error={form.errors['expiresAt']}
      />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Creating…">
          Create key
        </SubmitButton>
      </div>
    </form>
  );
}
