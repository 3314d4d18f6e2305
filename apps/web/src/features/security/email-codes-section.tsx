/**
 * E-mailed sign-in codes for new devices (docs/mfa-factors.md): the user's own switch, shown only
 * where the tenant allows e-mail codes. Not two-factor authentication (docs/design.md "MFA", NIST SP
 * 800-63B rev 4): with an authenticator app or a passkey, that factor is asked instead.
 */
import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { FormAlert } from '../../components/fields';
import { QueryView } from '../../components/states';
import { useEnrollmentRequired } from '../../lib/enrollment';
import { useAction } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Status = Outputs['otp']['status'];

const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: ['otp.status'] });

export function EmailCodesSection(): JSX.Element | null {
  const enrolling = useEnrollmentRequired();
  const status = useQuery({
    queryKey: ['otp.status'],
    queryFn: () => api.otp.status.query(),
    enabled: !enrolling,
  });
  if (enrolling) return null;
  if (status.data && !status.data.emailCodesAllowedByTenant) return null;
  return (
    <section className="card" aria-labelledby="email-codes-heading">
      <h2 id="email-codes-heading">E-mail codes</h2>
      <QueryView query={status} feature="E-mail codes">
        {(s) => <EmailCodesBody status={s} />}
      </QueryView>
    </section>
  );
}

function EmailCodesBody({ status }: { status: Status }): JSX.Element {
  const action = useAction();
  const toggle = async (on: boolean): Promise<void> => {
    const done = await action.act('toggle', () =>
      on ? api.otp.enableEmail.mutate() : api.otp.disableEmail.mutate(),
    );
    if (done) await reload();
  };
  return (
    <>
      <div className="field checkbox">
        <label>
          <input
            type="checkbox"
            role="switch"
            aria-checked={status.emailCodesEnabled}
            aria-describedby="email-codes-hint"
            checked={status.emailCodesEnabled}
            disabled={action.pending === 'toggle'}
            onChange={(event) => void toggle(event.currentTarget.checked)}
          />{' '}
          E-mail me a code when I sign in from a new device
        </label>
      </div>
      <p className="hint" id="email-codes-hint">
        This is not two-factor authentication: anyone who can read your e-mail can read the code.
        {status.authenticatorEnabled
          ? ' You have an authenticator app, so it is asked instead and no e-mail code is sent.'
          : ' For real protection, set up an authenticator app or a passkey.'}
      </p>
      <FormAlert message={action.error} />
    </>
  );
}
