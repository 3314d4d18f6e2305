/** auth.changePassword; the server signs out the user's other sessions. */
import { changePasswordInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { api, queryClient } from '../../lib/trpc';
import { NewPasswordField } from '../auth/password-strength';

export function ChangePasswordSection({ email }: { email: string }): JSX.Element {
  const form = useForm(['currentPassword', 'newPassword']);
  const [done, setDone] = useState(0);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const result = await form.run(
      formValues(target),
      (input) => api.auth.changePassword.mutate(input),
      changePasswordInput,
    );
    if (!result) return;
    target.reset();
    setDone((n) => n + 1);
    await queryClient.invalidateQueries({ queryKey: ['sessions.list'] });
  };
  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      {done > 0 ? <Notice>Password changed. Your other sessions were signed out.</Notice> : null}
      <form onSubmit={submit} noValidate key={done}>
        <FormAlert message={form.formError} />
        <TextField
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          error={form.errors['currentPassword']}
        />
        <NewPasswordField
          label="New password"
          name="newPassword"
          email={email}
          error={form.errors['newPassword']}
        />
        <SubmitButton pending={form.pending} pendingText="Saving…">
          Change password
        </SubmitButton>
      </form>
    </section>
  );
}
