/**
 * Sign-in in two steps: password (auth.signIn), then, when the answer is `mfa_required`, a TOTP
 * or backup code (auth.verifyMfa with the challenge token, held in memory only). When
 * `otp.challengeOptions` lists only `email`, the second step is the code e-mailed for a new
 * device instead (not two-factor authentication; docs/mfa-factors.md). Below the password form,
 * sign-in by work e-mail sends the browser to the SSO of the organisation holding the address's
 * verified domain (docs/domains.md).
 */
import { signInInput, verifyMfaInput } from '@tessera/api-contract/inputs';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SubmitButton, TextField } from '../../components/fields';
import { formValues, useForm } from '../../lib/forms';
import { passkeyPasswordless, passkeySecondFactor } from '../../lib/passkeys';
import { Link, navigate, useLocation } from '../../lib/router';
import { isEmailVerification, MfaExtras, useChallengeOptions } from './sign-in-mfa-extras';
import { SsoRequiredNotice } from '../domains/sso-required-notice';
import { ssoStartHref, WorkEmailSignIn } from '../domains/work-email-sign-in';
import { toApiError } from '../../lib/errors';
import { refreshSession, safeNext } from '../../lib/session';
import { api } from '../../lib/trpc';

/** The SSO start URL routed for an address (a SAML or OIDC connection), or null. */
async function routedStart(email: string): Promise<string | null> {
  const answer = await api.domains.route.mutate({ email }).catch(() => null);
  return answer?.sso ? ssoStartHref(answer.sso.startUrl) : null;
}

export function SignInPage(): JSX.Element {
  const { search } = useLocation();
  const [challenge, setChallenge] = useState<string | null>(null);
  // The organisation whose verified domain requires SSO for the address just tried, and the
  // start URL of its connection (domains.route; null: the OIDC start route).
  const [ssoTenant, setSsoTenant] = useState<{
    slug: string;
    startUrl: string | null;
  } | null>(null);
  const password = useForm(['tenantSlug', 'email', 'password']);
  const second = useForm(['code']);
  const passkey = useForm(['tenantSlug']);
  const next = safeNext(search.get('next'));
  const options = useChallengeOptions(challenge);

  const done = async (): Promise<void> => {
    await refreshSession();
    // An app's sign-in (/oidc/...) is served by the server, not by the console's router.
    if (next.startsWith('/oidc/')) window.location.assign(next);
    else navigate(next, { replace: true });
  };

  const submitPassword = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setSsoTenant(null);
    const result = await password.run(
      formValues(event.currentTarget),
      (input) =>
        api.auth.signIn.mutate(input).catch(async (error: unknown) => {
          if (toApiError(error).reason === 'sso_required')
            setSsoTenant({ slug: input.tenantSlug, startUrl: await routedStart(input.email) });
          throw error;
        }),
      signInInput,
    );
    if (!result) return;
    if (result.status === 'mfa_required') setChallenge(result.challengeToken);
    else await done();
  };

  const submitCode = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const { rememberDevice, ...fields } = formValues(event.currentTarget);
    const values = {
      ...fields,
      challengeToken: challenge ?? undefined,
      ...(rememberDevice ? { rememberDevice: true } : {}),
    };
    const result = await second.run(
      values,
      (input) => api.auth.verifyMfa.mutate(input),
      verifyMfaInput,
    );
    if (result) await done();
  };

  const usePasskey = async (): Promise<void> => {
    if (challenge && (await second.run({}, () => passkeySecondFactor(challenge))) !== undefined)
      await done();
  };

  /** Passwordless: only the organisation is needed; the authenticator offers its passkeys. */
  const passwordless = async (form: HTMLFormElement | null): Promise<void> => {
    const tenantSlug = (form ? formValues(form)['tenantSlug'] : '')?.trim() ?? '';
    if (!tenantSlug) return passkey.fail({ tenantSlug: 'Enter your organisation first.' });
    if ((await passkey.run({}, () => passkeyPasswordless(tenantSlug))) !== undefined) await done();
  };

  if (challenge && isEmailVerification(options)) {
    return (
      <section className="card narrow" aria-labelledby="email-code-title">
        <h1 id="email-code-title">Confirm it is you</h1>
        <p role="status">
          We e-mailed you a code because this is a new device. Enter the 6-digit code from that
          e-mail; it expires in 10 minutes.
        </p>
        <form onSubmit={submitCode} noValidate>
          <FormAlert message={second.formError} />
          <TextField
            label="Code from the e-mail"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            autoFocus
            required
            maxLength={32}
            error={second.errors['code']}
          />
          <div className="actions">
            <SubmitButton pending={second.pending} pendingText="Verifying…">
              Verify
            </SubmitButton>
            <button type="button" className="secondary" onClick={() => setChallenge(null)}>
              Start over
            </button>
          </div>
        </form>
        <p className="hint">No e-mail? Check your spam folder, or start over to get a new code.</p>
      </section>
    );
  }

  if (challenge) {
    return (
      <section className="card narrow" aria-labelledby="mfa-title">
        <h1 id="mfa-title">Two-factor authentication</h1>
        <p>
          Enter the 6-digit code from your authenticator app. Lost your device? Use one of your
          backup codes instead.
        </p>
        <form onSubmit={submitCode} noValidate>
          <FormAlert message={second.formError} />
          <TextField
            label="Authentication code or backup code"
            name="code"
            autoComplete="one-time-code"
            autoFocus
            required
            maxLength={32}
            error={second.errors['code']}
          />
          <MfaExtras challengeToken={challenge} options={options} />
          <div className="actions">
            <SubmitButton pending={second.pending} pendingText="Verifying…">
              Verify
            </SubmitButton>
            <button
              type="button"
              className="secondary"
              onClick={usePasskey}
              disabled={second.pending}
            >
              Use a passkey
            </button>
            <button type="button" className="secondary" onClick={() => setChallenge(null)}>
              Start over
            </button>
          </div>
        </form>
      </section>
    );
  }

  return (
    <section className="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <form onSubmit={submitPassword} noValidate>
        {ssoTenant ? (
          <SsoRequiredNotice tenantSlug={ssoTenant.slug} startUrl={ssoTenant.startUrl} />
        ) : (
          <FormAlert message={password.formError} />
        )}
        <TextField
          label="Organisation"
          name="tenantSlug"
          autoComplete="organization"
          required
          defaultValue={search.get('tenant') ?? ''}
          hint="The short name of your organisation, e.g. acme."
          error={password.errors['tenantSlug'] ?? passkey.errors['tenantSlug']}
        />
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          error={password.errors['email']}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={password.errors['password']}
        />
        <div className="actions">
          <SubmitButton pending={password.pending} pendingText="Signing in…">
            Sign in
          </SubmitButton>
          <button
            type="button"
            className="secondary"
            disabled={passkey.pending}
            onClick={(event) => passwordless(event.currentTarget.form)}
          >
            {passkey.pending ? 'Waiting for your device…' : 'Continue with a passkey'}
          </button>
        </div>
        <FormAlert message={passkey.formError} />
      </form>
      <WorkEmailSignIn />
      <p className="links">
        <Link to="/reset-password">Forgot your password?</Link> ·{' '}
        <Link to="/sign-up">Create an organisation</Link>
      </p>
    </section>
  );
}
