/**
 * Form plumbing: client-side checks with the contract's own zod schemas
 * (`@tessera/api-contract/inputs`), server errors mapped back onto the same fields, and a
 * step-up prompt when the server asks for a fresh second factor.
 */
import { useCallback, useState } from 'react';
import { fieldErrorsFrom, toApiError } from './errors';
import { useStepUp } from './step-up';

/** The part of a zod schema the console uses (structural, so no zod import is needed here). */
export interface Schema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
      };
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new FormData(form)) if (typeof value === 'string') out[key] = value;
  return out;
}

/** Empty optional text fields are left out rather than sent as "". */
export function compact<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== '' && v !== undefined),
  ) as Partial<T>;
}

export interface FormState {
  errors: Record<string, string>;
  formError: string | null;
  pending: boolean;
  /** Validates `values` with `schema` (if any), runs `action`, maps failures onto fields. */
  run<T, R>(
    values: unknown,
    action: (data: T) => Promise<R>,
    schema?: Schema<T>,
  ): Promise<R | undefined>;
  clear(): void;
  /** Shows errors found before calling the server (checks no contract schema covers). */
  fail(errors: Record<string, string>): void;
}

export function useForm(fields: readonly string[]): FormState {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const withStepUp = useStepUp();
  const key = fields.join(',');

  const run = useCallback(
    async <T, R>(
      values: unknown,
      action: (data: T) => Promise<R>,
      schema?: Schema<T>,
    ): Promise<R | undefined> => {
      const names = key.split(',');
      setFormError(null);
      if (schema) {
        const parsed = schema.safeParse(values);
        if (!parsed.success) {
          const found: Record<string, string> = {};
          const other: string[] = [];
          for (const issue of parsed.error.issues) {
            const name = String(issue.path[0] ?? '');
            if (names.includes(name)) found[name] ??= issue.message;
            else other.push(issue.message);
          }
          setErrors(found);
          if (other.length > 0) setFormError(other.join(' '));
          return undefined;
        }
        values = parsed.data;
      }
      setErrors({});
      setPending(true);
      try {
        return await withStepUp(() => action(values as T));
      } catch (error) {
        const mapped = fieldErrorsFrom(error, names);
        setErrors(mapped.fields);
        setFormError(mapped.form);
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [key, withStepUp],
  );

  const clear = useCallback(() => {
    setErrors({});
    setFormError(null);
  }, []);

  const fail = useCallback((found: Record<string, string>) => {
    setErrors(found);
    setFormError(null);
  }, []);

  return { errors, formError, pending, run, clear, fail };
}

/** For one-click actions (revoke, disable): runs with step-up and returns an error text. */
export function useAction(): {
  pending: string | null;
  error: string | null;
  act: (id: string, fn: () => Promise<unknown>) => Promise<boolean>;
} {
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const withStepUp = useStepUp();
  const act = useCallback(
    async (id: string, fn: () => Promise<unknown>): Promise<boolean> => {
      setPending(id);
      setError(null);
      try {
        await withStepUp(fn);
        return true;
      } catch (e) {
        setError(toApiError(e).message);
        return false;
      } finally {
        setPending(null);
      }
    },
    [withStepUp],
  );
  return { pending, error, act };
}
