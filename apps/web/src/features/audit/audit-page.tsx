/**
 * Audit log (audit.list, audit.verify): filters, newest first, cursor pagination (a stack of
 * cursors for "newer"), and the hash chain's verification status.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SubmitButton, TextField } from '../../components/fields';
import {
  Empty,
  ErrorMessage,
  Loading,
  NotAvailable,
  QueryView,
  Time,
} from '../../components/states';
import { fieldErrorsFrom, isMissingProcedure } from '../../lib/errors';
import { formValues } from '../../lib/forms';
import { api, type Inputs } from '../../lib/trpc';

type Filters = { action?: string; actorId?: string; since?: string; until?: string };
const PAGE = 25;

function toFilters(raw: Record<string, string>): Filters {
  const out: Filters = {};
  if (raw['action']?.trim()) out.action = raw['action'].trim();
  if (raw['actorId']?.trim()) out.actorId = raw['actorId'].trim();
  // datetime-local is the viewer's local time; the contract wants ISO-8601 with an offset.
  if (raw['since']) out.since = new Date(raw['since']).toISOString();
  if (raw['until']) out.until = new Date(raw['until']).toISOString();
  return out;
}

export function AuditPage(): JSX.Element {
  const [filters, setFilters] = useState<Filters>({});
  const [cursors, setCursors] = useState<number[]>([]);
  const cursor = cursors.at(-1);
  const input = {
    limit: PAGE,
    ...filters,
    ...(cursor === undefined ? {} : { cursor }),
  } as Inputs['audit']['list'];
  const page = useQuery({
    queryKey: ['audit.list', input],
    queryFn: () => api.audit.list.query(input),
    placeholderData: keepPreviousData,
  });
  const verify = useQuery({
    queryKey: ['audit.verify'],
    queryFn: () => api.audit.verify.query(),
    staleTime: 60_000,
  });
  const filterErrors =
    page.isError && !isMissingProcedure(page.error)
      ? fieldErrorsFrom(page.error, ['action', 'actorId', 'since', 'until'])
      : null;

  const apply = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setFilters(toFilters(formValues(event.currentTarget)));
    setCursors([]);
  };

  if (page.isError && isMissingProcedure(page.error)) {
    return (
      <>
        <h1>Audit log</h1>
        <NotAvailable feature="Audit log" />
      </>
    );
  }

  return (
    <>
      <h1>Audit log</h1>
      <section className="card" aria-labelledby="chain-heading">
        <h2 id="chain-heading">Chain verification</h2>
        <QueryView query={verify} feature="Chain verification">
          {(v) =>
            v.valid ? (
              <p className="status-line">
                <span className="badge ok">Intact</span> {v.checked} events checked; no record was
                changed or removed.
              </p>
            ) : (
              <p className="status-line" role="alert">
                <span className="badge warn">Broken</span> The chain fails at event #
                {v.firstInvalidSeq ?? '?'} after {v.checked} events. Someone changed the log: report
                this.
              </p>
            )
          }
        </QueryView>
        <button
          type="button"
          className="secondary small"
          onClick={() => void verify.refetch()}
          disabled={verify.isFetching}
        >
          {verify.isFetching ? 'Verifying…' : 'Verify again'}
        </button>
      </section>
      <section className="card" aria-labelledby="events-heading">
        <h2 id="events-heading">Events</h2>
        <form onSubmit={apply} className="inline-form" aria-label="Filter events" noValidate>
          <TextField
            label="Action"
            name="action"
            placeholder="auth.sign_in.failed"
            hint="Exact action name: lowercase words joined by dots."
            error={filterErrors?.fields['action']}
          />
          <TextField label="Actor id" name="actorId" error={filterErrors?.fields['actorId']} />
          <TextField
            label="From"
            name="since"
            type="datetime-local"
            error={filterErrors?.fields['since']}
          />
          <TextField
            label="Until"
            name="until"
            type="datetime-local"
            error={filterErrors?.fields['until']}
          />
          <SubmitButton pending={page.isFetching}>Apply filters</SubmitButton>
        </form>
        {filterErrors ? <FormAlert message={filterErrors.form} /> : null}
        {page.isPending ? <Loading label="Loading events…" /> : null}
        {page.isError && !filterErrors ? <ErrorMessage error={page.error} /> : null}
        {page.data && page.data.items.length === 0 ? <Empty>No events match.</Empty> : null}
        {page.data && page.data.items.length > 0 ? (
          <table aria-busy={page.isFetching || undefined}>
            <caption className="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>
                    <Time value={e.occurredAt} />
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>
                    {e.actor.type}
                    {e.actor.id ? <span className="hint"> {e.actor.id}</span> : null}
                  </td>
                  <td>{e.target ? `${e.target.type ?? ''} ${e.target.id ?? ''}` : '—'}</td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <nav aria-label="Audit pages" className="pager">
          <button
            type="button"
            className="secondary"
            disabled={cursors.length === 0}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Newer
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!page.data?.nextCursor}
            onClick={() => {
              const next = page.data?.nextCursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Older
          </button>
        </nav>
      </section>
    </>
  );
}
