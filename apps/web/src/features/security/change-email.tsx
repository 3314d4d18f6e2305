/**
 * auth.requestEmailChange: the password proves it is the user; the new address must confirm
 * through the link mailed to it, and the current address is told. The answer is the same whether
 * or not the new address is free, so this form cannot probe who has an account.
 */
import { requestEmailChangeInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { api } from '../../lib/trpc';

export function ChangeEmailSection({ email }: { email: string }): JSX.Element {
  const form = useForm(['newEmail', 'password']);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const values = formValues(target);
    const result = await form.run(
      values,
      (input) => api.auth.requestEmailChange.mutate(input),
      requestEmailChangeInput,
    );
    if (!result) return;
    target.reset();
    setSentTo((values['newEmail'] ?? '').trim());
  };
  return (
    <section className="card" aria-labelledby="email-heading">
      <h2 id="email-heading">E-mail address</h2>
      <p>
        You sign in as <strong>{email}</strong>.
      </p>
      {sentTo ? (
        <Notice>
          If {sentTo} can be used, it has a confirmation link now (valid 24 hours). Your address
          changes when you open it.
        </Notice>
      ) : null}
      <form onSubmit={submit} noValidate>
        <FormAlert message={form.formError} />
        <TextField
          label="New e-mail address"
          name="newEmail"
          type="email"
          autoComplete="email"
          required
          error={form.errors['newEmail']}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={form.errors['password']}
        />
        <SubmitButton pending={form.pending} pendingText="Sending…">
          Change address
        </SubmitButton>
      </form>
    </section>
  );
}
