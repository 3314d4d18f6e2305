/**
 * A secret shown exactly once (API keys, webhook signing secrets): copy it or leave; it lives only
 * in component state, never in storage, and is gone after "Done" or a reload.
 */
import { useId, useState, type JSX, type ReactNode } from 'react';

export function ShownOnceSecret({
  title,
  secret,
  secretLabel,
  copyLabel,
  children,
  onDone,
}: {
  title: string;
  secret: string;
  /** Accessible name of the secret, e.g. "New API key". */
  secretLabel: string;
  copyLabel: string;
  /** Extra lines under "Copy it now". */
  children?: ReactNode;
  onDone: () => void;
}): JSX.Element {
  const titleId = useId();
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    await navigator.clipboard.writeText(secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div className="alert success shown-once" role="status" aria-labelledby={titleId}>
      <h3 id={titleId}>{title}</h3>
      <p>
        Copy it now: <strong>it will not be shown again.</strong>
      </p>
      {children}
      <p>
        <code className="secret" aria-label={secretLabel}>
          {secret}
        </code>
      </p>
      <div className="actions">
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : copyLabel}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
