/**
 * Live strength meter (auth.passwordStrength, the server's own zxcvbn policy): debounced, and
 * only the newest answer is shown. The password goes in a POST body (a mutation), never a URL.
 */
import { useEffect, useId, useRef, useState, type JSX } from 'react';
import { TextField } from '../../components/fields';
import { api, type Outputs } from '../../lib/trpc';

type Strength = Outputs['auth']['passwordStrength'];

const LABELS = ['Very weak', 'Weak', 'Fair', 'Good', 'Strong'] as const;
const DEBOUNCE_MS = 350;

export function usePasswordStrength(
  password: string,
  context: { email?: string | undefined; tenantSlug?: string | undefined },
): { strength: Strength | null; checking: boolean } {
  const [strength, setStrength] = useState<Strength | null>(null);
  const [checking, setChecking] = useState(false);
  const latest = useRef(0);
  const { email, tenantSlug } = context;
  useEffect(() => {
    const ticket = ++latest.current;
    if (!password) {
      setStrength(null);
      setChecking(false);
      return;
    }
    setChecking(true);
    const timer = window.setTimeout(() => {
      const input = {
        password,
        ...(email ? { email } : {}),
        ...(tenantSlug ? { tenantSlug } : {}),
      };
      api.auth.passwordStrength
        .mutate(input)
        .then((result) => {
          if (ticket === latest.current) setStrength(result);
        })
        .catch(() => {
          if (ticket === latest.current) setStrength(null); // the meter is advice; submit still validates
        })
        .finally(() => {
          if (ticket === latest.current) setChecking(false);
        });
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [password, email, tenantSlug]);
  return { strength, checking };
}

export function StrengthMeter({
  strength,
  checking,
}: {
  strength: Strength | null;
  checking: boolean;
}): JSX.Element {
  const id = useId();
  const label = strength ? LABELS[strength.score] : null;
  return (
    <div className="strength" aria-live="polite">
      <meter
        id={id}
        min={0}
        max={4}
        low={2}
        high={3}
        optimum={4}
        value={strength?.score ?? 0}
        aria-label="Password strength"
      />
      <p className="hint">
        {checking && !strength ? 'Checking strength…' : null}
        {strength ? (
          <>
            Strength: <strong>{label}</strong>
            {strength.acceptable ? ' — good enough.' : ' — not accepted yet.'}
          </>
        ) : null}
      </p>
      {strength && strength.feedback.length > 0 ? (
        <ul className="hint feedback">
          {strength.feedback.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function NewPasswordField(props: {
  label?: string;
  name?: string;
  error?: string | undefined;
  email?: string | undefined;
  tenantSlug?: string | undefined;
}): JSX.Element {
  const [value, setValue] = useState('');
  const { strength, checking } = usePasswordStrength(value, {
    email: props.email,
    tenantSlug: props.tenantSlug,
  });
  return (
    <TextField
      label={props.label ?? 'Password'}
      name={props.name ?? 'password'}
      type="password"
      autoComplete="new-password"
      required
      maxLength={1024}
      value={value}
      onChange={(event) => setValue(event.target.value)}
      error={props.error}
      hint="At least 15 characters. A few unrelated words make a strong, memorable password."
    >
      <StrengthMeter strength={strength} checking={checking} />
    </TextField>
  );
}
