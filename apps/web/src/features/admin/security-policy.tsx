/** Tenant security policy (tenant.get / tenant.updateSecurityPolicy), owners and admins. */
import { updateSecurityPolicyInput } from '@tessera/api-contract/inputs';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SelectField, SubmitButton, TextField } from '../../components/fields';
import { QueryView } from '../../components/states';
import { formValues, useForm } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Policy = Outputs['tenant']['get']['securityPolicy'];

const NUMBERS = [
  ['sessionIdleMinutes', 'Sign out after inactivity (minutes)', 5, 1440],
  ['sessionMaxHours', 'Longest session (hours)', 1, 720],
  ['maxSessionsPerUser', 'Sessions per user', 1, 100],
  ['passwordMinLength', 'Minimum password length', 8, 256],
  ['lockoutThreshold', 'Failed sign-ins before a lockout', 3, 50],
  ['lockoutBaseSeconds', 'First lockout (seconds, doubles each time)', 1, 3600],
  ['rememberDeviceDays', 'Remember a device after two-factor sign-in (days, 0 = never)', 0, 365],
] as const;

/** On/off switches (docs/mfa-factors.md); SMS is labelled as the restricted authenticator it is. */
const SWITCHES = [
  {
    name: 'passkeyPasswordless',
    label: 'Allow sign-in with a passkey alone (no password)',
    hint: 'A passkey with user verification (PIN or biometrics) is two factors in one (AAL2).',
  },
  {
    name: 'smsCodesAllowed',
    label: 'Allow codes by text message (SMS)',
    hint: 'Restricted authenticator (NIST SP 800-63B): SIM swap and number porting can redirect codes. Users can add SMS only next to an authenticator app. Turning this off stops texts and codes already sent.',
  },
  {
    name: 'emailCodesAllowed',
    label: 'Allow one-time codes by e-mail',
    hint: 'Never a second factor (NIST SP 800-63B rev 4): e-mail codes can only confirm an address, never satisfy two-factor authentication. Users who opt in get a code by e-mail when they sign in from a new device without an authenticator app or passkey; turning this off stops that step and refuses codes already sent.',
  },
] as const;

export function SecurityPolicySection(): JSX.Element {
  const tenant = useQuery({ queryKey: ['tenant.get'], queryFn: () => api.tenant.get.query() });
  return (
    <section className="card" aria-labelledby="policy-heading">
      <h2 id="policy-heading">Security policy</h2>
      <QueryView query={tenant} feature="Security policy">
        {(t) => <PolicyForm policy={t.securityPolicy} />}
      </QueryView>
    </section>
  );
}

function PolicyForm({ policy }: { policy: Policy }): JSX.Element {
  const fields = ['mfaRequired', ...NUMBERS.map(([name]) => name), ...SWITCHES.map((s) => s.name)];
  const form = useForm(fields);
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    const raw = formValues(event.currentTarget);
    // Send only what changed; numbers as numbers so the contract's schema checks the bounds.
    const patch: Record<string, unknown> = {};
    if (raw['mfaRequired'] !== policy.mfaRequired) patch['mfaRequired'] = raw['mfaRequired'];
    for (const [name] of NUMBERS) {
      const value = raw[name] ?? '';
      const number = value.trim() === '' ? Number.NaN : Number(value);
      if (number !== policy[name]) patch[name] = Number.isFinite(number) ? number : value;
    }
    for (const { name } of SWITCHES) {
      const on = raw[name] === 'on';
      if (on !== policy[name]) patch[name] = on;
    }
    const result = await form.run(
      patch,
      (input) => api.tenant.updateSecurityPolicy.mutate(input),
      updateSecurityPolicyInput,
    );
    if (!result) return;
    setSaved(true);
    await queryClient.invalidateQueries({ queryKey: ['tenant.get'] });
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form">
      <FormAlert message={form.formError} />
      {saved ? <Notice>Policy saved.</Notice> : null}
      <SelectField
        label="Require two-factor authentication"
        name="mfaRequired"
        defaultValue={policy.mfaRequired}
        options={[
          { value: 'off', label: 'Optional for everyone' },
          { value: 'admins', label: 'Required for owners and admins' },
          { value: 'all', label: 'Required for everyone' },
        ]}
        error={form.errors['mfaRequired']}
      />
      {NUMBERS.map(([name, label, min, max]) => (
        <TextField
          key={name}
          label={label}
          name={name}
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          step={1}
          defaultValue={policy[name]}
          hint={`${min} to ${max}`}
          error={form.errors[name]}
        />
      ))}
      <fieldset>
        <legend>Sign-in methods</legend>
        {SWITCHES.map(({ name, label, hint }) => (
          <div className="field checkbox" key={name}>
            <label>
              <input
                type="checkbox"
                name={name}
                defaultChecked={policy[name]}
                aria-describedby={`${name}-hint`}
              />{' '}
              {label}
              {name === 'smsCodesAllowed' ? (
                <span className="badge warn">restricted authenticator (NIST SP 800-63B)</span>
              ) : null}
            </label>
            <p id={`${name}-hint`} className="hint">
              {hint}
            </p>
            {form.errors[name] ? <p className="field-error">{form.errors[name]}</p> : null}
          </div>
        ))}
      </fieldset>
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Saving…">
          Save policy
        </SubmitButton>
      </div>
    </form>
  );
}
