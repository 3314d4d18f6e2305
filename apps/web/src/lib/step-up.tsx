/**
 * Step-up (docs/design.md "MFA"): sensitive procedures answer `step_up_required` when the session's
 * second factor is older than 10 minutes. The console then asks for a code in a modal dialog,
 * calls `mfa.stepUp`, and retries the original call once.
 */
import { mfaCodeInput } from '@tessera/api-contract/inputs';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type FormEvent,
  type JSX,
  type ReactNode,
} from 'react';
import { describe, fieldErrorsFrom, toApiError } from './errors';
import { passkeyStepUp } from './passkeys';
import { api } from './trpc';

type WithStepUp = <R>(fn: () => Promise<R>) => Promise<R>;

const StepUpContext = createContext<WithStepUp>((fn) => fn());

export function useStepUp(): WithStepUp {
  return useContext(StepUpContext);
}

export function StepUpProvider({ children }: { children: ReactNode }): JSX.Element {
  const [pending, setPending] = useState<((ok: boolean) => void) | null>(null);
  const withStepUp = useCallback<WithStepUp>(async (fn) => {
    try {
      return await fn();
    } catch (error) {
      if (toApiError(error).reason !== 'step_up_required') throw error;
      const confirmed = await new Promise<boolean>((resolve) => setPending(() => resolve));
      if (!confirmed) throw error;
      return fn();
    }
  }, []);
  const finish = (ok: boolean): void => {
    pending?.(ok);
    setPending(null);
  };
  return (
    <StepUpContext.Provider value={withStepUp}>
      {children}
      {pending ? <StepUpDialog onDone={finish} /> : null}
    </StepUpContext.Provider>
  );
}

function StepUpDialog({ onDone }: { onDone: (ok: boolean) => void }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const codeId = useId();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const parsed = mfaCodeInput.safeParse({ code: new FormData(event.currentTarget).get('code') });
    if (!parsed.success)
      return setError('Enter the 6-digit code from your authenticator app, or a backup code.');
    setBusy(true);
    try {
      await api.mfa.stepUp.mutate(parsed.data);
      ref.current?.close();
      onDone(true);
    } catch (e) {
      const mapped = fieldErrorsFrom(e, ['code']);
      setError(mapped.fields['code'] ?? mapped.form);
    } finally {
      setBusy(false);
    }
  };
  const usePasskey = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await passkeyStepUp();
      ref.current?.close();
      onDone(true);
    } catch (e) {
      setError(describe(toApiError(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={() => onDone(false)} className="dialog">
      <form onSubmit={submit} noValidate>
        <h2 id={titleId}>Confirm it is you</h2>
        <p>This action needs a fresh code from your authenticator app, or your passkey.</p>
        <div className="field">
          <label htmlFor={codeId}>Authentication code</label>
          <input
            id={codeId}
            name="code"
            autoComplete="one-time-code"
            required
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${codeId}-error` : undefined}
          />
          {error ? (
            <p id={`${codeId}-error`} className="field-error">
              {error}
            </p>
          ) : null}
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Confirm'}
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={usePasskey}>
            Use a passkey
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              ref.current?.close();
              onDone(false);
            }}
          >
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
