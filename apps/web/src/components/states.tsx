/** Loading, empty, error and "not available yet" states shared by every page. */
import type { UseQueryResult } from '@tanstack/react-query';
import type { JSX, ReactNode } from 'react';
import { describe, isMissingProcedure, toApiError } from '../lib/errors';

export function Loading({ label = 'Loading…' }: { label?: string }): JSX.Element {
  return (
    <p role="status" className="loading">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }): JSX.Element {
  return <p className="empty">{children}</p>;
}

export function NotAvailable({ feature }: { feature: string }): JSX.Element {
  return (
    <div className="alert info" role="status">
      <strong>{feature}: not available yet.</strong> This server does not offer it yet; the page
      will work as soon as it does.
    </div>
  );
}

export function ErrorMessage({ error }: { error: unknown }): JSX.Element {
  return (
    <div role="alert" className="alert error">
      {describe(toApiError(error))}
    </div>
  );
}

/** Renders a query's loading, missing-procedure and error states, else `children(data)`. */
export function QueryView<T>({
  query,
  feature,
  children,
}: {
  query: UseQueryResult<T>;
  feature: string;
  children: (data: T) => ReactNode;
}): JSX.Element {
  if (query.isPending) return <Loading label={`Loading ${feature.toLowerCase()}…`} />;
  if (query.isError)
    return isMissingProcedure(query.error) ? (
      <NotAvailable feature={feature} />
    ) : (
      <ErrorMessage error={query.error} />
    );
  return <>{children(query.data)}</>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDate(value: string | null | undefined, withTime = true): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : (withTime ? dateTime : dateOnly).format(date);
}

export function Time({
  value,
  withTime = true,
}: {
  value: string | null | undefined;
  withTime?: boolean;
}): JSX.Element {
  if (!value) return <span aria-label="none">—</span>;
  return <time dateTime={value}>{formatDate(value, withTime)}</time>;
}
