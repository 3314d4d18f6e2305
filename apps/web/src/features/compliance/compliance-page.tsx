/**
 * Compliance queue (compliance.*): requests with filters and due dates, reject or extend with
 * a reason, create a request on a subject's behalf, place and release legal holds.
 */
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, SelectField, SubmitButton } from '../../components/fields';
import { Empty, ErrorMessage, Loading, NotAvailable, Time } from '../../components/states';
import { isMissingProcedure } from '../../lib/errors';
import { formValues, useAction } from '../../lib/forms';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';
import { StatusBadge } from '../privacy/status-badge';
import { CreateOnBehalfForm, LegalHolds } from './holds';

type Item = Outputs['compliance']['listRequests']['items'][number];
type Filters = Pick<
  Exclude<Inputs['compliance']['listRequests'], void | undefined>,
  'status' | 'type'
>;
type RequestStatus = NonNullable<Filters['status']>;
type RequestType = NonNullable<Filters['type']>;
const STATUSES = [
  '',
  'pending',
  'processing',
  'blocked',
  'completed',
  'failed',
  'rejected',
] as const;
const DAY = 86_400_000;

function dueTone(item: Item, now: number): { label: string; tone: string } | null {
  if (item.status === 'completed' || item.status === 'rejected') return null;
  const left = Date.parse(item.dueAt) - now;
  if (left < 0) return { label: 'Overdue', tone: 'warn' };
  if (left < 7 * DAY)
    return { label: `Due in ${Math.max(1, Math.ceil(left / DAY))} d`, tone: 'warn' };
  return null;
}

export function CompliancePage(): JSX.Element {
  const [filters, setFilters] = useState<Filters>({});
  const queue = useInfiniteQuery({
    queryKey: ['compliance.listRequests', filters],
    queryFn: ({ pageParam }) =>
      api.compliance.listRequests.query({
        ...filters,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
  const reload = (): Promise<void> =>
    queryClient.invalidateQueries({ queryKey: ['compliance.listRequests'] });
  const apply = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const raw = formValues(event.currentTarget);
    setFilters({
      ...(raw['status'] ? { status: raw['status'] as RequestStatus } : {}),
      ...(raw['type'] ? { type: raw['type'] as RequestType } : {}),
    });
  };
  if (queue.isError && isMissingProcedure(queue.error)) {
    return (
      <>
        <h1>Compliance</h1>
        <NotAvailable feature="Compliance queue" />
        <LegalHolds />
      </>
    );
  }
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <h1>Compliance</h1>
      <section className="card" aria-labelledby="queue-heading">
        <h2 id="queue-heading">Request queue</h2>
        <form onSubmit={apply} className="inline-form" aria-label="Filter requests" noValidate>
          <SelectField
            label="Status"
            name="status"
            options={STATUSES.map((s) => ({ value: s, label: s || 'Any' }))}
            defaultValue=""
          />
          <SelectField
            label="Type"
            name="type"
            options={[
              { value: '', label: 'Any' },
              { value: 'export', label: 'Export' },
              { value: 'deletion', label: 'Deletion' },
            ]}
            defaultValue=""
          />
          <SubmitButton pending={queue.isFetching}>Apply filters</SubmitButton>
        </form>
        {queue.isPending ? <Loading label="Loading requests…" /> : null}
        {queue.isError ? <ErrorMessage error={queue.error} /> : null}
        {queue.isSuccess && items.length === 0 ? <Empty>No requests match.</Empty> : null}
        {items.length > 0 ? <QueueTable items={items} onChanged={reload} /> : null}
        {queue.hasNextPage ? (
          <button
            type="button"
            className="secondary"
            onClick={() => void queue.fetchNextPage()}
            disabled={queue.isFetchingNextPage}
          >
            Load more
          </button>
        ) : null}
      </section>
      <CreateOnBehalfForm onCreated={reload} />
      <LegalHolds />
    </>
  );
}

function QueueTable({
  items,
  onChanged,
}: {
  items: readonly Item[];
  onChanged: () => Promise<void>;
}): JSX.Element {
  const action = useAction();
  const now = Date.now();
  const reject = async (item: Item): Promise<void> => {
    const reason = window.prompt('Why is this request rejected? The subject is told.');
    if (!reason?.trim()) return;
    if (
      await action.act(`reject:${item.id}`, () =>
        api.compliance.rejectRequest.mutate({ id: item.id, reason: reason.trim() }),
      )
    )
      await onChanged();
  };
  const extend = async (item: Item): Promise<void> => {
    const reason = window.prompt(
      'Extend by one month (at most two in all). Reason, as told to the subject:',
    );
    if (!reason?.trim()) return;
    if (
      await action.act(`extend:${item.id}`, () =>
        api.compliance.extendDeadline.mutate({
          id: item.id,
          months: 1,
          reason: reason.trim(),
        }),
      )
    )
      await onChanged();
  };
  const download = async (item: Item): Promise<void> => {
    // Reading a subject's export is audited by the server; the link lives a few minutes.
    await action.act(`download:${item.id}`, async () => {
      const link = await api.privacy.exportDownload.query({ requestId: item.id });
      window.location.assign(link.url);
    });
  };
  return (
    <>
      <FormAlert message={action.error} />
      <table>
        <caption className="visually-hidden">Data-subject requests</caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Request</th>
            <th scope="col">Status</th>
            <th scope="col">Received</th>
            <th scope="col">Due by</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => {
            const due = dueTone(item, now);
            const open =
              item.status !== 'completed' && item.status !== 'rejected' && item.status !== 'failed';
            return (
              <tr key={item.id}>
                <td>
                  <code>{item.userId}</code>
                </td>
                <td>{item.type === 'export' ? `Export (${item.format ?? 'json'})` : 'Deletion'}</td>
                <td>
                  <StatusBadge status={item.status} />
                  {item.rejectionReason ? (
                    <span className="hint"> {item.rejectionReason}</span>
                  ) : null}
                </td>
                <td>
                  <Time value={item.requestedAt} />
                </td>
                <td>
                  <Time value={item.dueAt} withTime={false} />{' '}
                  {item.extendedMonths > 0 ? (
                    <span className="badge">+{item.extendedMonths} mo</span>
                  ) : null}{' '}
                  {due ? <span className={`badge ${due.tone}`}>{due.label}</span> : null}
                </td>
                <td>
                  <div className="row-actions">
                    {open ? (
                      <>
                        {item.extendedMonths < 2 ? (
                          <button
                            type="button"
                            className="secondary small"
                            disabled={action.pending === `extend:${item.id}`}
                            onClick={() => extend(item)}
                          >
                            Extend
                            <span className="visually-hidden"> deadline of request {item.id}</span>
                          </button>
                        ) : null}
                        <button
                          type="button"
                          className="secondary small"
                          disabled={action.pending === `reject:${item.id}`}
                          onClick={() => reject(item)}
                        >
                          Reject<span className="visually-hidden"> request {item.id}</span>
                        </button>
                      </>
                    ) : null}
                    {item.exportAvailable ? (
                      <button
                        type="button"
                        className="small"
                        disabled={action.pending === `download:${item.id}`}
                        onClick={() => download(item)}
                      >
                        Download<span className="visually-hidden"> export {item.id}</span>
                      </button>
                    ) : null}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
