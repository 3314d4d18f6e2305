/**
 * Pages behind the links mailed by auth.requestEmailVerification (/verify-email) and
 * auth.requestEmailChange (/confirm-email-change). The token arrives in the `#token=` fragment
 * (never sent to a server log); the user presses a button, so a mail scanner that opens links
 * confirms nothing.
 */
import { useState, type JSX } from 'react';
import { FormAlert, Notice } from '../../components/fields';
import { describe, toApiError } from '../../lib/errors';
import { fragmentTokenValue, Link } from '../../lib/router';
import { api } from '../../lib/trpc';

const KINDS = {
  'verify-email': {
    title: 'Confirm your e-mail address',
    action: 'Confirm address',
    done: 'Your e-mail address is confirmed.',
    call: (token: string) => api.auth.verifyEmail.mutate({ token }),
  },
  'email-change': {
    title: 'Confirm your new e-mail address',
    action: 'Use this address',
    done: 'Your account now uses this address. Sign in with it from now on.',
    call: (token: string) => api.auth.confirmEmailChange.mutate({ token }),
  },
} as const;

export function ConfirmLinkPage({ kind }: { kind: keyof typeof KINDS }): JSX.Element {
  const spec = KINDS[kind];
  const [token] = useState(fragmentTokenValue);
  const [state, setState] = useState<{ pending: boolean; error: string | null; done: boolean }>({
    pending: false,
    error: null,
    done: false,
  });
  const confirm = async (): Promise<void> => {
    if (!token) return;
    setState({ pending: true, error: null, done: false });
    try {
      await spec.call(token);
      setState({ pending: false, error: null, done: true });
    } catch (error) {
      setState({ pending: false, error: describe(toApiError(error)), done: false });
    }
  };
  return (
    <section className="card narrow" aria-labelledby="confirm-title">
      <h1 id="confirm-title">{spec.title}</h1>
      {!token ? (
        <FormAlert message="This link is incomplete. Open the link from the e-mail again." />
      ) : state.done ? (
        <>
          <Notice>{spec.done}</Notice>
          <p>
            <Link to="/">Continue</Link>
          </p>
        </>
      ) : (
        <>
          <FormAlert message={state.error} />
          <button type="button" onClick={confirm} disabled={state.pending}>
            {state.pending ? 'Confirming…' : spec.action}
          </button>
        </>
      )}
    </section>
  );
}
