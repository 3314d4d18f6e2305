/**
 * Two-factor authentication: enrol (QR image + the secret as text for manual entry, then a code),
 * backup codes shown once, regenerate, disable.
 */
import { disableMfaInput, mfaCodeInput } from '@tessera/api-contract/inputs';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { QueryView, Time } from '../../components/states';
import { clearEnrollmentRequired } from '../../lib/enrollment';
import { formValues, useForm } from '../../lib/forms';
import { reloadSession } from '../../lib/session';
import { api, type Outputs } from '../../lib/trpc';
import { BackupCodes } from './backup-codes';

type Enrollment = Outputs['mfa']['beginEnrollment'];

/** Groups of four, as authenticator apps show them; spaces are ignored when typed in. */
const grouped = (secret: string): string => secret.replace(/(.{4})/g, '$1 ').trim();

export function MfaSection(): JSX.Element {
  const status = useQuery({ queryKey: ['mfa.status'], queryFn: () => api.mfa.status.query() });
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <section className="card" aria-labelledby="mfa-heading">
      <h2 id="mfa-heading">Two-factor authentication</h2>
      {codes ? (
        <BackupCodes codes={codes} onDone={() => setCodes(null)} />
      ) : (
        <QueryView query={status} feature="Two-factor status">
          {(s) =>
            s.enabled ? <Enabled status={s} onCodes={setCodes} /> : <Enroll onCodes={setCodes} />
          }
        </QueryView>
      )}
    </section>
  );
}

function Enroll({ onCodes }: { onCodes: (codes: string[]) => void }): JSX.Element {
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  // mfa.status describes the authenticator app; passkeys are a second factor of their own.
  const passkeys = useQuery({
    queryKey: ['passkeys.list'],
    queryFn: () => api.passkeys.list.query(),
  });
  const start = useForm([]);
  const confirm = useForm(['code']);
  const begin = async (): Promise<void> => {
    const result = await start.run({}, () => api.mfa.beginEnrollment.mutate());
    if (result) setEnrollment(result);
  };
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await confirm.run(
      formValues(event.currentTarget),
      (input) => api.mfa.confirmEnrollment.mutate(input),
      mfaCodeInput,
    );
    if (!result) return;
    clearEnrollmentRequired();
    onCodes(result.backupCodes);
    await reloadSession(); // a first factor comes with a new session cookie (no longer enrollment-only)
  };
  if (!enrollment) {
    return (
      <>
        <p>
          {passkeys.data && passkeys.data.length > 0
            ? 'Your passkeys already give you two-factor sign-in. An authenticator app adds a second way in, with backup codes for a lost device.'
            : 'Two-factor authentication is off. Turn it on to protect your account with an authenticator app.'}
        </p>
        <FormAlert message={start.formError} />
        <button type="button" onClick={begin} disabled={start.pending}>
          {start.pending ? 'Preparing…' : 'Set up two-factor authentication'}
        </button>
      </>
    );
  }
  return (
    <div className="enroll">
      <ol className="steps">
        <li>
          <p>Scan this QR code with your authenticator app.</p>
          <img
            className="qr"
            src={enrollment.qrCodeDataUrl}
            alt="QR code to add this account to an authenticator app"
            width={200}
            height={200}
          />
        </li>
        <li>
          <p id="secret-label">Or type this setup key into the app:</p>
          <p>
            <code className="secret" aria-labelledby="secret-label" data-secret={enrollment.secret}>
              {grouped(enrollment.secret)}
            </code>
          </p>
        </li>
        <li>
          <form onSubmit={submit} noValidate>
            <FormAlert message={confirm.formError} />
            <TextField
              label="Code from the app"
              name="code"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              maxLength={32}
              error={confirm.errors['code']}
            />
            <SubmitButton pending={confirm.pending} pendingText="Checking…">
              Turn on
            </SubmitButton>
          </form>
        </li>
      </ol>
    </div>
  );
}

function Enabled({
  status,
  onCodes,
}: {
  status: Outputs['mfa']['status'];
  onCodes: (codes: string[]) => void;
}): JSX.Element {
  const regen = useForm(['code']);
  const disable = useForm(['password', 'code']);
  const [disabled, setDisabled] = useState(false);
  const regenerate = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await regen.run(
      formValues(event.currentTarget),
      (input) => api.mfa.regenerateBackupCodes.mutate(input),
      mfaCodeInput,
    );
    if (result) onCodes(result.backupCodes);
  };
  const turnOff = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const result = await disable.run(
      formValues(event.currentTarget),
      (input) => api.mfa.disable.mutate(input),
      disableMfaInput,
    );
    if (!result) return;
    setDisabled(true);
    await reloadSession();
  };
  if (disabled) return <Notice>Two-factor authentication is off.</Notice>;
  return (
    <>
      <p className="status-line">
        <span className="badge ok">On</span> since <Time value={status.enabledAt} />. Backup codes
        left: <strong>{status.backupCodesRemaining}</strong>.
      </p>
      <details>
        <summary>New backup codes</summary>
        <form onSubmit={regenerate} noValidate>
          <p>Your old backup codes stop working.</p>
          <FormAlert message={regen.formError} />
          <TextField
            label="Code from your authenticator app"
            name="code"
            autoComplete="one-time-code"
            required
            maxLength={32}
            error={regen.errors['code']}
          />
          <SubmitButton pending={regen.pending}>Make new backup codes</SubmitButton>
        </form>
      </details>
      <details>
        <summary>Turn off two-factor authentication</summary>
        <form onSubmit={turnOff} noValidate>
          <FormAlert message={disable.formError} />
          <TextField
            label="Current password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            error={disable.errors['password']}
          />
          <TextField
            label="Code from your authenticator app"
            name="code"
            autoComplete="one-time-code"
            required
            maxLength={32}
            error={disable.errors['code']}
          />
          <SubmitButton pending={disable.pending}>Turn off</SubmitButton>
        </form>
      </details>
    </>
  );
}
