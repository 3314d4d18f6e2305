/**
 * Sign-in by work e-mail (home-realm discovery, docs/domains.md "Routing by e-mail domain"): the
 * address goes to `domains.route`, which answers the SSO start URL of the organisation holding
 * the address's verified domain (its OIDC connection, or a SAML connection), and the browser
 * goes there. An address at a domain without SSO gets a plain answer and the password form stays.
 */
import { routeSignInInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { api } from '../../lib/trpc';

/**
 * The routed start URL as a link target (a path when it is on the console's origin), or null when
 * the server's answer is not an http(s) URL.
 */
export function ssoStartHref(startUrl: string): string | null {
  try {
    const url = new URL(startUrl, window.location.origin);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin === window.location.origin ? `${url.pathname}${url.search}` : url.href;
  } catch {
    return null;
  }
}

export function WorkEmailSignIn(): JSX.Element {
  const form = useForm(['email']);
  const [unrouted, setUnrouted] = useState(false);
  const [leaving, setLeaving] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setUnrouted(false);
    const answer = await form.run(
      formValues(event.currentTarget),
      (input) => api.domains.route.mutate(input),
      routeSignInInput,
    );
    if (!answer) return;
    const href = answer.sso ? ssoStartHref(answer.sso.startUrl) : null;
    if (!href) {
      setUnrouted(true);
      return;
    }
    setLeaving(true);
    window.location.assign(href);
  };

  return (
    <form className="work-email" aria-labelledby="work-email-title" onSubmit={submit} noValidate>
      <h2 id="work-email-title">Single sign-on</h2>
      <p className="hint">
        Sign in with your work e-mail: if your organisation uses single sign-on for its domain, you
        continue at its identity provider.
      </p>
      <FormAlert message={form.formError} />
      {unrouted ? (
        <div role="alert" className="alert info">
          Single sign-on is not set up for this e-mail address. Sign in with your organisation and
          password above.
        </div>
      ) : null}
      <TextField
        label="Work e-mail"
        name="email"
        type="email"
        autoComplete="email"
        required
        error={form.errors['email']}
      />
      <div className="actions">
        <SubmitButton pending={form.pending || leaving} pendingText="Continuing…">
          Continue with SSO
        </SubmitButton>
      </div>
    </form>
  );
}
