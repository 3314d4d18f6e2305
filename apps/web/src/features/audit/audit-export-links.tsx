/**
 * CSV and JSON-lines downloads of what the page shows: the export route (GET /audit/export,
 * docs/audit-log.md "Export") with the page's filter in the query string. Same-origin GET with
 * the session cookie; the server records the export with its filter before the first byte.
 */
import type { JSX } from 'react';

export function exportHref(
  format: 'csv' | 'jsonl',
  filter: Record<string, string | undefined>,
): string {
  const query = new URLSearchParams({ format });
  for (const [key, value] of Object.entries(filter)) if (value) query.set(key, value);
  return `/audit/export?${query.toString()}`;
}

export function ExportLinks({
  filter,
}: {
  filter: Record<string, string | undefined>;
}): JSX.Element {
  return (
    <p className="links" aria-label="Export the filtered events">
      Export these events:{' '}
      <a href={exportHref('csv', filter)} download>
        CSV
      </a>{' '}
      <a href={exportHref('jsonl', filter)} download>
        JSON lines
      </a>
    </p>
  );
}
