/** Accepts an invitation: the token arrives in the link's `#token=` fragment (never sent to a server log). */
import { acceptInviteInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SubmitButton, TextField } from '../../components/fields';
import { compact, formValues, useForm } from '../../lib/forms';
import { fragmentTokenValue, Link, navigate } from '../../lib/router';
import { refreshSession } from '../../lib/session';
import { api } from '../../lib/trpc';
import { NewPasswordField } from './password-strength';

export function AcceptInvitePage(): JSX.Element {
  const [token] = useState(fragmentTokenValue);
  const form = useForm(['password', 'displayName', 'token']);

  if (!token) {
    return (
      <section className="card narrow" aria-labelledby="invite-title">
        <h1 id="invite-title">Accept invitation</h1>
        <div role="alert" className="alert error">
          This page needs the link from your invitation e-mail. Open the link again, or ask your
          administrator for a new invitation.
        </div>
        <p className="links">
          <Link to="/sign-in">Sign in</Link>
        </p>
      </section>
    );
  }

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const values = { ...compact(formValues(event.currentTarget)), token };
    const result = await form.run(
      values,
      (input) => api.auth.acceptInvite.mutate(input),
      acceptInviteInput,
    );
    if (!result) return;
    await refreshSession();
    navigate('/security?welcome=1', { replace: true });
  };

  return (
    <section className="card narrow" aria-labelledby="invite-title">
      <h1 id="invite-title">Accept invitation</h1>
      <p>Choose a password to finish setting up your account.</p>
      <form onSubmit={submit} noValidate>
        <FormAlert message={form.formError ?? form.errors['token'] ?? null} />
        <TextField
          label="Your name (optional)"
          name="displayName"
          autoComplete="name"
          maxLength={100}
          error={form.errors['displayName']}
        />
        <NewPasswordField error={form.errors['password']} />
        <div className="actions">
          <SubmitButton pending={form.pending} pendingText="Joining…">
            Join
          </SubmitButton>
        </div>
      </form>
    </section>
  );
}
