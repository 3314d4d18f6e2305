/**
 * API keys (apiKeys.*): create with scopes, CIDR allowlist, rate limit and expiry; the key is
 * shown once. Rotate (old key valid for a grace period) and revoke. Secret keys need step-up
 * for users with MFA, which the form's step-up dialog handles.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { ChoiceGroup, FormAlert, Notice, SubmitButton, TextAreaField, TextField } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import { pendingMutation, pendingQuery, type In, type Out } from '../../lib/pending';
import { queryClient } from '../../lib/trpc';

type Key = Out<'apiKeys.list'>[number];
type Created = Out<'apiKeys.create'>;

const SCOPES = ['users:read', 'users:write', 'audit:read', 'privacy:read', 'privacy:write', 'api_keys:read', 'api_keys:write'] as const;
const FIELDS = ['name', 'type', 'environment', 'scopes', 'allowedCidrs', 'rateLimit', 'expiresAt'];
const LIST_KEY = ['apiKeys.list'];

export function ApiKeysSection(): JSX.Element {
  const keys = useQuery({ queryKey: LIST_KEY, queryFn: () => pendingQuery('apiKeys.list') });
  const [shown, setShown] = useState<{ key: string; name: string } | null>(null);
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });
  const minted = async (created: Created): Promise<void> => {
    setShown({ key: created.key, name: created.apiKey.name });
    await reload();
  };
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <QueryView query={keys} feature="API keys">
        {(list) => (
          <>
            {shown ? <ShownOnce value={shown.key} name={shown.name} onDone={() => setShown(null)} /> : null}
            <KeyTable keys={list} onMinted={minted} onChanged={reload} />
            <details className="create-key">
              <summary>Create an API key</summary>
              <CreateKeyForm onCreated={minted} />
            </details>
          </>
        )}
      </QueryView>
    </section>
  );
}

function ShownOnce({ value, name, onDone }: { value: string; name: string; onDone: () => void }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    await navigator.clipboard.writeText(value).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div className="alert success shown-once" role="status" aria-labelledby="new-key-title">
      <h3 id="new-key-title">New key “{name}”</h3>
      <p>
        Copy it now: <strong>it will not be shown again.</strong>
      </p>
      <p>
        <code className="secret" aria-label="New API key">{value}</code>
      </p>
      <div className="actions">
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy key'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

function KeyTable({ keys, onMinted, onChanged }: { keys: readonly Key[]; onMinted: (c: Created) => Promise<void>; onChanged: () => Promise<void> }): JSX.Element {
  const action = useAction();
  const revoke = async (key: Key): Promise<void> => {
    if (!window.confirm(`Revoke “${key.name}”? Calls with it fail at once.`)) return;
    if (await action.act(`revoke:${key.id}`, () => pendingMutation('apiKeys.revoke', { id: key.id }))) await onChanged();
  };
  const rotate = async (key: Key): Promise<void> => {
    const answer = window.prompt(`Rotate “${key.name}”: for how many seconds should the old key keep working?`, '3600');
    if (answer === null) return;
    const graceSeconds = Number(answer);
    await action.act(`rotate:${key.id}`, async () => {
      await onMinted(await pendingMutation('apiKeys.rotate', { id: key.id, graceSeconds: Number.isFinite(graceSeconds) ? graceSeconds : 0 }));
    });
  };
  if (keys.length === 0) return <Empty>No API keys yet.</Empty>;
  return (
    <>
      <FormAlert message={action.error} />
      <table>
        <caption className="visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Scopes</th>
            <th scope="col">Limits</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} className={k.revokedAt ? 'muted' : undefined}>
              <td>
                {k.name} {k.revokedAt ? <span className="badge warn">Revoked</span> : null}
              </td>
              <td>
                <code>{k.prefix}…</code>
                <br />
                <span className="hint">
                  {k.type}, {k.environment}
                </span>
              </td>
              <td>{k.scopes.length > 0 ? k.scopes.join(', ') : '—'}</td>
              <td>
                {k.rateLimit ? `${k.rateLimit.max} per ${k.rateLimit.windowSeconds} s` : 'Default'}
                {k.allowedCidrs.length > 0 ? <span className="hint"> · from {k.allowedCidrs.join(', ')}</span> : null}
              </td>
              <td>
                <Time value={k.lastUsedAt} />
              </td>
              <td>
                <Time value={k.expiresAt} />
              </td>
              <td className="row-actions">
                {k.revokedAt ? null : (
                  <>
                    <button type="button" className="secondary small" disabled={action.pending === `rotate:${k.id}`} onClick={() => rotate(k)}>
                      Rotate<span className="visually-hidden"> {k.name}</span>
                    </button>
                    <button type="button" className="secondary small" disabled={action.pending === `revoke:${k.id}`} onClick={() => revoke(k)}>
                      Revoke<span className="visually-hidden"> {k.name}</span>
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Builds the create input from the form; the server's schema validates it. */
function createInput(form: HTMLFormElement): In<'apiKeys.create'> {
  const raw = formValues(form);
  const data = new FormData(form);
  const type = raw['type'] === 'publishable' ? 'publishable' : 'secret';
  const input: In<'apiKeys.create'> = {
    name: (raw['name'] ?? '').trim(),
    type,
    environment: raw['environment'] === 'live' ? 'live' : 'test',
    scopes: type === 'secret' ? data.getAll('scopes').filter((s): s is string => typeof s === 'string') : [],
  };
  const cidrs = (raw['allowedCidrs'] ?? '').split(/[\s,]+/).filter(Boolean);
  if (cidrs.length > 0) input.allowedCidrs = cidrs;
  if (raw['rateMax'] || raw['rateWindow']) input.rateLimit = { max: Number(raw['rateMax']), windowSeconds: Number(raw['rateWindow'] || 60) };
  if (raw['expiresAt']) input.expiresAt = new Date(raw['expiresAt']).toISOString();
  return input;
}

function CreateKeyForm({ onCreated }: { onCreated: (c: Created) => Promise<void> }): JSX.Element {
  const form = useForm(FIELDS);
  const [type, setType] = useState('secret');
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const input = createInput(target);
    if (!input.name) return form.fail({ name: 'Give the key a name.' });
    const created = await form.run(input, (data: In<'apiKeys.create'>) => pendingMutation('apiKeys.create', data));
    if (!created) return;
    target.reset();
    setType('secret');
    await onCreated(created);
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <FormAlert message={form.formError} />
      <TextField label="Name" name="name" required maxLength={100} hint="What uses it, e.g. billing-service." error={form.errors['name']} />
      <ChoiceGroup legend="Type" name="type" type="radio" defaultValue={['secret']} onChange={(v) => setType(v[0] ?? 'secret')} error={form.errors['type']}
        options={[{ value: 'secret', label: 'Secret (server to server)' }, { value: 'publishable', label: 'Publishable (identifies your tenant in a browser)' }]} />
      <ChoiceGroup legend="Environment" name="environment" type="radio" defaultValue={['test']} error={form.errors['environment']}
        options={[{ value: 'test', label: 'Test' }, { value: 'live', label: 'Live' }]} />
      {type === 'secret' ? (
        <ChoiceGroup legend="Scopes" name="scopes" type="checkbox" error={form.errors['scopes']} hint="Grant only what the caller needs."
          options={SCOPES.map((s) => ({ value: s, label: s }))} />
      ) : null}
      <TextAreaField label="Allowed IP ranges (optional)" name="allowedCidrs" rows={2} hint="CIDRs, one per line, e.g. 203.0.113.0/24 or 2001:db8::/32. Empty: any address." error={form.errors['allowedCidrs']} />
      <fieldset className="inline" aria-describedby="rate-hint">
        <legend>Rate limit (optional)</legend>
        <TextField label="Requests" name="rateMax" type="number" min={1} inputMode="numeric" error={form.errors['rateLimit']} />
        <TextField label="per seconds" name="rateWindow" type="number" min={1} inputMode="numeric" placeholder="60" />
        <p id="rate-hint" className="hint">Empty: the server default.</p>
      </fieldset>
      <TextField label="Expires (optional)" name="expiresAt" type="datetime-local" error={form.errors['expiresAt']} />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Creating…">
          Create key
        </SubmitButton>
      </div>
    </form>
  );
}
