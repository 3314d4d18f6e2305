/**
 * Passkeys: add (named), list with kind and dates, rename, remove. Adding or removing is a factor
 * change: the server asks for step-up, confirmed with a passkey when the user has one (else the
 * code dialog). The first passkey turns the session into a fresh AAL2 one, as TOTP does.
 */
import { renamePasskeyInput } from '@tessera/api-contract/inputs';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { clearEnrollmentRequired } from '../../lib/enrollment';
import { formValues, useAction, useForm } from '../../lib/forms';
import { createPasskey, withPasskeyStepUp } from '../../lib/passkeys';
import { reloadSession } from '../../lib/session';
import { api, type Outputs } from '../../lib/trpc';

type Passkey = Outputs['passkeys']['list'][number];
const KEY = ['passkeys.list'] as const;
/** The contract's own name rule, for the add form's `{ name }`. */
const nameInput = renamePasskeyInput.pick({ name: true });

export function PasskeysSection(): JSX.Element {
  const list = useQuery({ queryKey: KEY, queryFn: () => api.passkeys.list.query() });
  return (
    <section className="card" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p>
        A passkey signs you in with your device&apos;s screen lock or a security key. It counts as a
        second factor, and it cannot be phished.
      </p>
      <QueryView query={list} feature="Passkeys">
        {(items) => <PasskeyList items={items} />}
      </QueryView>
    </section>
  );
}

function PasskeyList({ items }: { items: Passkey[] }): JSX.Element {
  const client = useQueryClient();
  const add = useForm(['name']);
  const remove = useAction();
  const [added, setAdded] = useState<string | null>(null);
  const refresh = (): Promise<void> => client.invalidateQueries({ queryKey: KEY });
  const hasPasskey = items.length > 0;

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const form = event.currentTarget;
    const result = await add.run(
      formValues(form),
      ({ name }: { name: string }) => withPasskeyStepUp(() => createPasskey(name), hasPasskey),
      nameInput,
    );
    if (!result) return;
    form.reset();
    setAdded(result.name);
    if (!hasPasskey) {
      clearEnrollmentRequired();
      await reloadSession(); // the first factor came with a fresh AAL2 session cookie
    }
    await refresh();
  };

  return (
    <>
      {added ? <Notice>Passkey “{added}” added.</Notice> : null}
      {items.length === 0 ? (
        <Empty>No passkeys yet.</Empty>
      ) : (
        <table>
          <caption className="visually-hidden">Your passkeys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>
                  {p.deviceType === 'multiDevice'
                    ? `Synced${p.backedUp ? ' (backed up)' : ''}`
                    : 'This device only'}
                </td>
                <td>
                  <Time value={p.createdAt} />
                </td>
                <td>{p.lastUsedAt ? <Time value={p.lastUsedAt} /> : 'Never'}</td>
                <td>
                  <Rename passkey={p} onDone={refresh} />
                  <button
                    type="button"
                    className="secondary"
                    disabled={remove.pending === p.id}
                    aria-label={`Remove passkey ${p.name}`}
                    onClick={async () => {
                      const ok = await remove.act(p.id, () =>
                        withPasskeyStepUp(() => api.passkeys.remove.mutate({ id: p.id }), true),
                      );
                      if (ok) {
                        await reloadSession();
                        await refresh();
                      }
                    }}
                  >
                    {remove.pending === p.id ? 'Removing…' : 'Remove'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FormAlert message={remove.error} />
      <form onSubmit={submit} noValidate aria-label="Add a passkey">
        <FormAlert message={add.formError} />
        <TextField
          label="Passkey name"
          name="name"
          required
          maxLength={100}
          hint="For example: Work laptop, Phone."
          error={add.errors['name']}
        />
        <SubmitButton pending={add.pending} pendingText="Waiting for your device…">
          Add a passkey
        </SubmitButton>
      </form>
    </>
  );
}

function Rename({
  passkey,
  onDone,
}: {
  passkey: Passkey;
  onDone: () => Promise<void>;
}): JSX.Element {
  const form = useForm(['name']);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await form.run(
      { ...formValues(event.currentTarget), id: passkey.id },
      (input) => api.passkeys.rename.mutate(input),
      renamePasskeyInput,
    );
    if (result) await onDone();
  };
  return (
    <details>
      <summary>Rename</summary>
      <form onSubmit={submit} noValidate>
        <FormAlert message={form.formError} />
        <TextField
          label={`New name for ${passkey.name}`}
          name="name"
          required
          maxLength={100}
          defaultValue={passkey.name}
          error={form.errors['name']}
        />
        <SubmitButton pending={form.pending}>Save name</SubmitButton>
      </form>
    </details>
  );
}
