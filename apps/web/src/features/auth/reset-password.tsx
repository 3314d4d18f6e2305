/**
 * Password reset. Without a token: ask for a link (auth.requestPasswordReset answers the same
 * whether or not the account exists). With `#token=`: choose a new password (auth.resetPassword).
 */
import { requestPasswordResetInput, resetPasswordInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { fragmentTokenValue, Link } from '../../lib/router';
import { api } from '../../lib/trpc';
import { NewPasswordField } from './password-strength';

export function ResetPasswordPage(): JSX.Element {
  const [token] = useState(fragmentTokenValue);
  return token ? <ChooseNewPassword token={token} /> : <RequestLink />;
}

function RequestLink(): JSX.Element {
  const form = useForm(['tenantSlug', 'email']);
  const [sent, setSent] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await form.run(
      formValues(event.currentTarget),
      (input) => api.auth.requestPasswordReset.mutate(input),
      requestPasswordResetInput,
    );
    if (result) setSent(true);
  };
  return (
    <section className="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Reset your password</h1>
      {sent ? (
        <Notice>
          If an account exists for that address, we have sent a link to reset its password. The link
          works once and expires soon.
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <FormAlert message={form.formError} />
          <TextField
            label="Organisation"
            name="tenantSlug"
            autoComplete="organization"
            required
            error={form.errors['tenantSlug']}
          />
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            required
            error={form.errors['email']}
          />
          <div className="actions">
            <SubmitButton pending={form.pending} pendingText="Sending…">
              Send reset link
            </SubmitButton>
          </div>
        </form>
      )}
      <p className="links">
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </section>
  );
}

function ChooseNewPassword({ token }: { token: string }): JSX.Element {
  const form = useForm(['newPassword', 'token']);
  const [done, setDone] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const values = { ...formValues(event.currentTarget), token };
    const result = await form.run(
      values,
      (input) => api.auth.resetPassword.mutate(input),
      resetPasswordInput,
    );
    if (result) setDone(true);
  };
  return (
    <section className="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {done ? (
        <>
          <Notice>Your password has been changed and every session was signed out.</Notice>
          <p className="links">
            <Link to="/sign-in">Sign in</Link>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <FormAlert message={form.formError ?? form.errors['token'] ?? null} />
          <NewPasswordField
            label="New password"
            name="newPassword"
            error={form.errors['newPassword']}
          />
          <div className="actions">
            <SubmitButton pending={form.pending} pendingText="Saving…">
              Set new password
            </SubmitButton>
          </div>
        </form>
      )}
    </section>
  );
}
