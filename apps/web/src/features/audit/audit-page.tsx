/**
 * Audit log (audit.list, audit.verify, audit.actions, audit.get): filters (an action picked from
 * the actions that occur, a free-text target search, actor and time), newest first, actors and
 * targets by name, cursor pagination (a stack of cursors for "newer"), an export of the current
 * filter, a detail dialog per event, and the hash chain's verification status.
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
import { AuditDrawer } from './audit-drawer';
import { ExportLinks } from './audit-export-links';
import { Party } from './audit-party';

type Filters = {
  action?: string;
  actorId?: string;
  since?: string;
  until?: string;
  target?: string;
};
const PAGE = 25;

function toFilters(raw: Record<string, string>): Filters {
  const out: Filters = {};
  if (raw['action']?.trim()) out.action = raw['action'].trim();
  if (raw['actorId']?.trim()) out.actorId = raw['actorId'].trim();
  if (raw['target']?.trim()) out.target = raw['target'].trim();
  // datetime-local is the viewer's local time; the contract wants ISO-8601 with an offset.
  if (raw['since']) out.since = new Date(raw['since']).toISOString();
  if (raw['until']) out.until = new Date(raw['until']).toISOString();
  return out;
}

export function AuditPage(): JSX.Element {
  const [filters, setFilters] = useState<Filters>({});
  const [cursors, setCursors] = useState<number[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const actions = useQuery({
    queryKey: ['audit.actions'],
    queryFn: () => api.audit.actions.query(),
    staleTime: 60_000,
  });
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
      ? fieldErrorsFrom(page.error, ['action', 'actorId', 'since', 'until', 'target'])
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
            list="audit-actions"
            autoComplete="off"
            placeholder="Type to search the actions"
            hint={`${actions.data?.actions.length ?? 0} actions occur in this log.`}
            error={filterErrors?.fields['action']}
          >
            <datalist id="audit-actions">
              {actions.data?.actions.map((action) => (
                <option key={action} value={action} />
              ))}
            </datalist>
          </TextField>
          <TextField
            label="Target"
            name="target"
            placeholder="e-mail, name or key name"
            hint="Events about users or API keys whose name contains this."
            error={filterErrors?.fields['target']}
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
        <ExportLinks filter={filters} />
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
                <th scope="col">Risk</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
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
                    <Party type={e.actor.type} id={e.actor.id} names={page.data.names} />
                  </td>
                  <td>
                    {e.target ? (
                      <Party type={e.target.type} id={e.target.id} names={page.data.names} />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{e.ip ?? '—'}</td>
                  <td>{e.riskScore}</td>
                  <td>
                    <button
                      type="button"
                      className="secondary small"
                      aria-label={`Details of event ${e.seq}`}
                      onClick={() => setOpen(e.seq)}
                    >
                      Details
                    </button>
                  </td>
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
      {open === null ? null : <AuditDrawer seq={open} onClose={() => setOpen(null)} />}
    </>
  );
}
