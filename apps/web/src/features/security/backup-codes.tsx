/** Backup codes are shown once: copy them, download them as a text file, or print them. */
import { useState, type JSX } from 'react';

export function BackupCodes({
  codes,
  onDone,
}: {
  codes: readonly string[];
  onDone: () => void;
}): JSX.Element {
  const [copied, setCopied] = useState<string | null>(null);
  const text = `Tessera backup codes (each works once)\n\n${codes.join('\n')}\n`;
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is blocked here: select the codes and copy them by hand.');
    }
  };
  const download = (): void => {
    // A blob: link keeps the codes in this tab; nothing is uploaded or stored by the console.
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'tessera-backup-codes.txt';
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="backup-codes" role="region" aria-labelledby="backup-title">
      <h3 id="backup-title">Your backup codes</h3>
      <p>
        Keep these somewhere safe. Each code signs you in once if you lose your authenticator.{' '}
        <strong>They will not be shown again.</strong>
      </p>
      <ol className="codes" aria-label="Backup codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" onClick={copy}>
          Copy codes
        </button>
        <button type="button" onClick={download}>
          Download as text
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          I have saved them
        </button>
      </div>
      {copied ? (
        <p role="status" className="hint">
          {copied}
        </p>
      ) : null}
    </div>
  );
}
