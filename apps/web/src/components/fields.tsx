/** Labelled inputs whose errors sit next to them (`aria-invalid` + `aria-describedby`). */
import {
  useId,
  type ChangeEvent,
  type InputHTMLAttributes,
  type JSX,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

interface Described {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  /** Keeps the label for screen readers only (table rows where a column header says it). */
  hideLabel?: boolean;
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

function Messages({
  id,
  hint,
  error,
}: {
  id: string;
  hint?: ReactNode;
  error?: string | undefined;
}): JSX.Element {
  return (
    <>
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </>
  );
}

type TextFieldProps = Described &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & { name: string; children?: ReactNode };

export function TextField({
  label,
  error,
  hint,
  hideLabel,
  children,
  ...input
}: TextFieldProps): JSX.Element {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...input}
      />
      {children}
      <Messages id={id} hint={hint} error={error} />
    </div>
  );
}

type TextAreaProps = Described &
  Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'> & { name: string };

export function TextAreaField({
  label,
  error,
  hint,
  hideLabel,
  ...input
}: TextAreaProps): JSX.Element {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <textarea
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...input}
      />
      <Messages id={id} hint={hint} error={error} />
    </div>
  );
}

type SelectProps = Described &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & {
    name: string;
    options: readonly (string | { value: string; label: string })[];
  };

export function SelectField({
  label,
  error,
  hint,
  hideLabel,
  options,
  ...select
}: SelectProps): JSX.Element {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <select
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        {...select}
      >
        {options.map((option) => {
          const { value, label: text } =
            typeof option === 'string' ? { value: option, label: option } : option;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
      <Messages id={id} hint={hint} error={error} />
    </div>
  );
}

/** Checkboxes or radios under one legend; the error belongs to the whole group. */
export function ChoiceGroup(props: {
  legend: string;
  name: string;
  type: 'checkbox' | 'radio';
  options: readonly { value: string; label: string }[];
  defaultValue?: readonly string[];
  error?: string | undefined;
  hint?: ReactNode;
  onChange?: (values: string[]) => void;
}): JSX.Element {
  const id = useId();
  const { legend, name, type, options, defaultValue = [], error, hint, onChange } = props;
  const changed = (event: ChangeEvent<HTMLInputElement>): void => {
    const form = event.currentTarget.form;
    if (!form || !onChange) return;
    onChange(new FormData(form).getAll(name).filter((v): v is string => typeof v === 'string'));
  };
  return (
    <fieldset
      className="choices"
      aria-invalid={error ? true : undefined}
      aria-describedby={describedBy(id, hint, error)}
    >
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option.value} className="choice">
          <input
            type={type}
            name={name}
            value={option.value}
            defaultChecked={defaultValue.includes(option.value)}
            onChange={changed}
          />{' '}
          {option.label}
        </label>
      ))}
      <Messages id={id} hint={hint} error={error} />
    </fieldset>
  );
}

export function FormAlert({ message }: { message: string | null }): JSX.Element | null {
  if (!message) return null;
  return (
    <div role="alert" className="alert error">
      {message}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }): JSX.Element {
  return (
    <div role="status" className="alert success">
      {children}
    </div>
  );
}

export function SubmitButton({
  pending,
  children,
  pendingText = 'Working…',
}: {
  pending: boolean;
  children: ReactNode;
  pendingText?: string;
}): JSX.Element {
  return (
    <button type="submit" disabled={pending} aria-busy={pending || undefined}>
      {pending ? pendingText : children}
    </button>
  );
}

/**
 * A small action button in a table row. Its visible label is the action ("Revoke"); a screen
 * reader also hears what it acts on ("Revoke deploy key"), so a list of rows stays tellable apart.
 */
export function RowButton({
  label,
  subject,
  disabled = false,
  onClick,
}: {
  label: string;
  subject: ReactNode;
  disabled?: boolean;
  onClick: () => void;
}): JSX.Element {
  return (
    <button type="button" className="secondary small" disabled={disabled} onClick={onClick}>
      {label}
      <span className="visually-hidden"> {subject}</span>
    </button>
  );
}
