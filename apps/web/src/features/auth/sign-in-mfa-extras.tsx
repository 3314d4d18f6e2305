/**
 * The extras of the second sign-in step (docs/mfa-factors.md): "Text me a code" when the tenant
 * allows SMS and the user has a verified number, and "Remember this device for N days" when the
 * tenant allows remembered devices. The texted code goes into the same code field.
 *
 * When the step is a new-device sign-in verification (`methods` is `['email']`), a code was
 * e-mailed instead; that is not two-factor authentication and offers nothing else.
 */
import { useEffect, useState, type JSX } from 'react';
import { toApiError } from '../../lib/errors';
import { api, type Outputs } from '../../lib/trpc';

type Options = Outputs['otp']['challengeOptions'];

/** What the pending second step accepts; null while loading, on error, or without a challenge. */
export function useChallengeOptions(challengeToken: string | null): Options | null {
  const [options, setOptions] = useState<Options | null>(null);
  useEffect(() => {
    setOptions(null);
    if (!challengeToken) return undefined;
    let live = true;
    api.otp.challengeOptions
      .mutate({ challengeToken })
      .then((o) => live && setOptions(o))
      .catch(() => live && setOptions(null));
    return () => {
      live = false;
    };
  }, [challengeToken]);
  return options;
}

/** True when the step is the e-mailed new-device code (not MFA). */
export const isEmailVerification = (options: Options | null): boolean =>
  options?.methods?.length === 1 && options.methods[0] === 'email';

export function MfaExtras({
  challengeToken,
  options,
}: {
  challengeToken: string;
  options: Options | null;
}): JSX.Element | null {
  const [message, setMessage] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  if (!options || isEmailVerification(options)) return null;
  const text = async (): Promise<void> => {
    setSending(true);
    try {
      const sent = await api.otp.sendCode.mutate({ challengeToken, channel: 'sms' });
      setMessage(
        `Code sent to your number ending in ${sent.phoneHint}. It expires in 10 minutes; enter it above.`,
      );
    } catch (error) {
      setMessage(toApiError(error).message);
    } finally {
      setSending(false);
    }
  };
  return (
    <>
      {options.smsAvailable ? (
        <p>
          <button type="button" className="secondary small" onClick={text} disabled={sending}>
            {sending ? 'Sending…' : `Text me a code (number ending in ${options.phoneHint ?? '…'})`}
          </button>{' '}
          {message ? <span role="status">{message}</span> : null}
        </p>
      ) : null}
      {options.rememberDeviceDays > 0 ? (
        <div className="field checkbox">
          <label>
            <input type="checkbox" name="rememberDevice" value="on" /> Remember this device for{' '}
            {options.rememberDeviceDays} {options.rememberDeviceDays === 1 ? 'day' : 'days'}
          </label>
          <p className="hint">
            Only on a device you own. Sensitive actions will still ask for a code.
          </p>
        </div>
      ) : null}
    </>
  );
}
