/** Legal holds and requests created on a subject's behalf (compliance staff only). */
import { useState, type FormEvent, type JSX } from 'react';
import {
  FormAlert,
  Notice,
  SelectField,
  SubmitButton,
  TextAreaField,
  TextField,
} from '../../components/fields';
import { NotAvailable } from '../../components/states';
import { isMissingProcedure } from '../../lib/errors';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, type Inputs } from '../../lib/trpc';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function CreateOnBehalfForm({ onCreated }: { onCreated: () => Promise<void> }): JSX.Element {
  const form = useForm(['userId', 'type', 'format']);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(null);
    const target = event.currentTarget;
    const raw = formValues(target);
    const userId = (raw['userId'] ?? '').trim();
    if (!UUID.test(userId))
      return form.fail({
        userId: 'Enter the subject’s user id (a UUID, as shown in the audit log).',
      });
    const input = {
      userId,
      type: raw['type'],
      ...(raw['type'] === 'export' ? { format: raw['format'] } : {}),
    } as Inputs['compliance']['createRequest'];
    const result = await form.run(input, (data: Inputs['compliance']['createRequest']) =>
      api.compliance.createRequest.mutate(data),
    );
    if (result === undefined) return;
    setDone('Request created.');
    target.reset();
    await onCreated();
  };
  return (
    <section className="card" aria-labelledby="behalf-heading">
      <h2 id="behalf-heading">Create a request on behalf of a subject</h2>
      <form onSubmit={submit} className="inline-form" noValidate>
        <FormAlert message={form.formError} />
        {done ? <Notice>{done}</Notice> : null}
        <TextField label="Subject user id" name="userId" required error={form.errors['userId']} />
        <SelectField
          label="Type"
          name="type"
          options={[
            { value: 'export', label: 'Export' },
            { value: 'deletion', label: 'Deletion' },
          ]}
          error={form.errors['type']}
        />
        <SelectField
          label="Format (exports)"
          name="format"
          options={['json', 'csv', 'pdf']}
          error={form.errors['format']}
        />
        <SubmitButton pending={form.pending}>Create request</SubmitButton>
      </form>
    </section>
  );
}

export function LegalHolds(): JSX.Element {
  const form = useForm(['userId', 'reason']);
  const release = useAction();
  const [holds, setHolds] = useState<
    { holdId: string; userId: string; reason: string; released: boolean }[]
  >([]);
  const [missing, setMissing] = useState(false);
  const place = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const raw = formValues(target);
    const userId = (raw['userId'] ?? '').trim();
    const reason = (raw['reason'] ?? '').trim();
    const errors: Record<string, string> = {};
    if (!UUID.test(userId)) errors['userId'] = 'Enter the subject’s user id (a UUID).';
    if (!reason) errors['reason'] = 'Say why the data must be kept (case, authority).';
    if (Object.keys(errors).length > 0) return form.fail(errors);
    const result = await form.run(
      { userId, reason },
      async (input: Inputs['compliance']['placeLegalHold']) => {
        try {
          return await api.compliance.placeLegalHold.mutate(input);
        } catch (error) {
          if (isMissingProcedure(error)) setMissing(true);
          throw error;
        }
      },
    );
    if (!result) return;
    setHolds((list) => [{ holdId: result.holdId, userId, reason, released: false }, ...list]);
    target.reset();
  };
  const releaseHold = async (holdId: string): Promise<void> => {
    if (!window.confirm('Release this legal hold? A blocked deletion resumes.')) return;
    if (await release.act(holdId, () => api.compliance.releaseLegalHold.mutate({ holdId }))) {
      setHolds((list) => list.map((h) => (h.holdId === holdId ? { ...h, released: true } : h)));
    }
  };
  return (
    <section className="card" aria-labelledby="holds-heading">
      <h2 id="holds-heading">Legal holds</h2>
      {missing ? <NotAvailable feature="Legal holds" /> : null}
      <p>
        A hold keeps a subject’s data: their deletion requests wait (“On legal hold”) until it is
        released.
      </p>
      <form onSubmit={place} noValidate aria-label="Place a legal hold">
        <FormAlert message={missing ? null : form.formError} />
        <TextField label="Subject user id" name="userId" required error={form.errors['userId']} />
        <TextAreaField
          label="Reason"
          name="reason"
          rows={2}
          required
          maxLength={1000}
          error={form.errors['reason']}
        />
        <SubmitButton pending={form.pending}>Place hold</SubmitButton>
      </form>
      <FormAlert message={release.error} />
      {holds.length > 0 ? (
        <ul className="holds" aria-label="Holds placed in this session">
          {holds.map((h) => (
            <li key={h.holdId}>
              <span>
                Hold <code>{h.holdId}</code> on <code>{h.userId}</code>: {h.reason}
              </span>{' '}
              {h.released ? (
                <span className="badge">Released</span>
              ) : (
                <button
                  type="button"
                  className="secondary small"
                  disabled={release.pending === h.holdId}
                  onClick={() => releaseHold(h.holdId)}
                >
                  Release<span className="visually-hidden"> hold {h.holdId}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <ReleaseById onRelease={releaseHold} />
    </section>
  );
}

function ReleaseById({ onRelease }: { onRelease: (holdId: string) => Promise<void> }): JSX.Element {
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const holdId = (formValues(event.currentTarget)['holdId'] ?? '').trim();
    if (!holdId) return setError('Enter the hold id.');
    setError(undefined);
    await onRelease(holdId);
  };
  return (
    <details>
      <summary>Release a hold by id</summary>
      <form onSubmit={submit} className="inline-form" noValidate>
        <TextField label="Hold id" name="holdId" error={error} />
        <button type="submit" className="secondary">
          Release hold
        </button>
      </form>
    </details>
  );
}
