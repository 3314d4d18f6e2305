/**
 * Codes by text message (docs/mfa-factors.md): a restricted authenticator (NIST SP 800-63B) that
 * the tenant must allow, added only next to an authenticator app, whose backup codes stay the
 * recovery path. Add a number (a code is texted to it), confirm, or remove it.
 */
import { beginSmsEnrollmentInput, oneTimeCodeInput } from '@tessera/api-contract/inputs';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { QueryView, Time } from '../../components/states';
import { useEnrollmentRequired } from '../../lib/enrollment';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Status = Outputs['otp']['status'];

const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: ['otp.status'] });

export function SmsSection(): JSX.Element | null {
  // Enrollment-only sessions may call only the enrollment procedures (docs/design.md "MFA").
  const enrolling = useEnrollmentRequired();
  const status = useQuery({
    queryKey: ['otp.status'],
    queryFn: () => api.otp.status.query(),
    enabled: !enrolling,
  });
  if (enrolling) return null;
  // Hidden where the tenant does not allow SMS and the user has no number left over.
  if (status.data && !status.data.smsAllowedByTenant && !status.data.phoneHint) return null;
  return (
    <section className="card" aria-labelledby="sms-heading">
      <h2 id="sms-heading">Codes by text message</h2>
      <QueryView query={status} feature="Text message codes">
        {(s) => <SmsBody status={s} />}
      </QueryView>
    </section>
  );
}

function SmsBody({ status }: { status: Status }): JSX.Element {
  if (status.smsEnabled || (status.phoneHint && !status.smsPending))
    return <Enabled status={status} />;
  if (!status.authenticatorEnabled) {
    return (
      <p>
        Set up an authenticator app first. Text messages can only be an additional way to get a
        code.
      </p>
    );
  }
  if (!status.smsAvailable) return <p>Text messages are not available on this server.</p>;
  return <AddNumber pendingHint={status.smsPending ? status.phoneHint : null} />;
}

function Enabled({ status }: { status: Status }): JSX.Element {
  const action = useAction();
  const remove = async (): Promise<void> => {
    if (await action.act('remove', () => api.otp.disableSms.mutate())) await reload();
  };
  return (
    <>
      <p>
        Codes can be texted to your number ending in <strong>{status.phoneHint}</strong>
        {status.smsVerifiedAt ? (
          <>
            {' '}
            (verified <Time value={status.smsVerifiedAt} />)
          </>
        ) : null}
        .
        {status.smsAllowedByTenant
          ? null
          : ' Your organisation no longer allows text messages, so this number is not used.'}
      </p>
      <p className="hint">
        Text messages are the weakest second factor (SIM swap, number porting). Keep your
        authenticator app and backup codes.
      </p>
      <FormAlert message={action.error} />
      <button
        type="button"
        className="secondary"
        onClick={remove}
        disabled={action.pending === 'remove'}
      >
        Remove this number
      </button>
    </>
  );
}

function AddNumber({ pendingHint }: { pendingHint: string | null }): JSX.Element {
  const [sentTo, setSentTo] = useState<string | null>(pendingHint);
  const [done, setDone] = useState(false);
  const start = useForm(['phone']);
  const confirm = useForm(['code']);
  const begin = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await start.run(
      formValues(event.currentTarget),
      (input) => api.otp.beginSmsEnrollment.mutate(input),
      beginSmsEnrollmentInput,
    );
    if (result) setSentTo(result.phoneHint);
  };
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await confirm.run(
      formValues(event.currentTarget),
      (input) => api.otp.confirmSmsEnrollment.mutate(input),
      oneTimeCodeInput,
    );
    if (!result) return;
    setDone(true);
    await reload();
  };
  if (done) return <Notice>Your number is verified.</Notice>;
  return (
    <>
      <p>
        Get sign-in codes by text message as an alternative to your authenticator app. Text messages
        are a <em>restricted</em> authenticator (NIST SP 800-63B): use them only if you need to.
      </p>
      <form onSubmit={begin} noValidate>
        <FormAlert message={start.formError} />
        <TextField
          name="phone"
          type="tel"
          label="Mobile number"
          autoComplete="tel"
          hint="International format, e.g. +44 7700 900123."
          error={start.errors['phone']}
        />
        <SubmitButton pending={start.pending} pendingText="Sending…">
          {sentTo ? 'Send a new code' : 'Text me a code'}
        </SubmitButton>
      </form>
      {sentTo ? (
        <form onSubmit={submit} noValidate>
          <FormAlert message={confirm.formError} />
          <TextField
            name="code"
            label={`Code sent to the number ending in ${sentTo}`}
            inputMode="numeric"
            autoComplete="one-time-code"
            error={confirm.errors['code']}
          />
          <SubmitButton pending={confirm.pending} pendingText="Checking…">
            Verify number
          </SubmitButton>
        </form>
      ) : null}
    </>
  );
}
