/** Creates a tenant and its owner (auth.signUp); the server sets the session cookie. */
import { signUpInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SubmitButton, TextField } from '../../components/fields';
import { compact, formValues, useForm } from '../../lib/forms';
import { Link, navigate } from '../../lib/router';
import { refreshSession } from '../../lib/session';
import { api } from '../../lib/trpc';
import { NewPasswordField } from './password-strength';

function slugOf(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

export function SignUpPage(): JSX.Element {
  const form = useForm(['tenantName', 'tenantSlug', 'email', 'displayName', 'password']);
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [email, setEmail] = useState('');

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await form.run(
      compact(formValues(event.currentTarget)),
      (input) => api.auth.signUp.mutate(input),
      signUpInput,
    );
    if (!result) return;
    await refreshSession();
    navigate('/security?welcome=1', { replace: true });
  };

  return (
    <section className="card narrow" aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">Create your organisation</h1>
      <form onSubmit={submit} noValidate>
        <FormAlert message={form.formError} />
        <TextField
          label="Organisation name"
          name="tenantName"
          autoComplete="organization"
          required
          maxLength={100}
          onChange={(event) => {
            if (!slugEdited) setSlug(slugOf(event.target.value));
          }}
          error={form.errors['tenantName']}
        />
        <TextField
          label="Organisation short name"
          name="tenantSlug"
          required
          maxLength={40}
          value={slug}
          onChange={(event) => {
            setSlugEdited(true);
            setSlug(event.target.value);
          }}
          hint="Lowercase letters, digits and hyphens. People type it when they sign in."
          error={form.errors['tenantSlug']}
        />
        <TextField
          label="Your name (optional)"
          name="displayName"
          autoComplete="name"
          maxLength={100}
          error={form.errors['displayName']}
        />
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={form.errors['email']}
        />
        <NewPasswordField error={form.errors['password']} email={email} tenantSlug={slug} />
        <div className="actions">
          <SubmitButton pending={form.pending} pendingText="Creating…">
            Create organisation
          </SubmitButton>
        </div>
      </form>
      <p className="links">
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
