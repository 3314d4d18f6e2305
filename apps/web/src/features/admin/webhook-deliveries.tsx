/**
 * One endpoint's delivery log (privacy.webhooks.deliveries), newest first and paged, refreshed
 * while a delivery is pending, with "Acknowledge" for an erasure that waits on this endpoint.
 */
import { acknowledgePrivacyWebhookInput } from '@tessera/api-contract/inputs';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type JSX } from 'react';
import { FormAlert, Notice } from '../../components/fields';
import { Empty, ErrorMessage, Loading, Time } from '../../components/states';
import { useAction } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Endpoint = Outputs['privacy']['webhooks']['list'][number];
type Delivery = Outputs['privacy']['webhooks']['deliveries']['items'][number];

const deliveriesKey = (endpointId: string) => ['privacy.webhooks.deliveries', endpointId];

const STATUS: Record<Delivery['status'], { label: string; tone: string }> = {
  pending: { label: 'Pending', tone: '' },
  delivered: { label: 'Delivered', tone: 'ok' },
  acknowledged: { label: 'Acknowledged', tone: 'ok' },
  failed: { label: 'Failed', tone: 'warn' },
  cancelled: { label: 'Cancelled', tone: '' },
};

/** An erasure waits on this delivery: the API accepts an explicit acknowledgement. */
const canAcknowledge = (d: Delivery): boolean =>
  d.requiresAck && d.status !== 'acknowledged' && d.status !== 'cancelled';

export function DeliveryLog({ endpoint }: { endpoint: Endpoint }): JSX.Element {
  const log = useInfiniteQuery({
    queryKey: deliveriesKey(endpoint.id),
    queryFn: ({ pageParam }) =>
      api.privacy.webhooks.deliveries.query({
        endpointId: endpoint.id,
        limit: 20,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? null,
    // While something is still on its way, look again now and then.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((d) => d.status === 'pending'))
        ? 5_000
        : false,
  });
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const reload = (): Promise<void> =>
    queryClient.invalidateQueries({ queryKey: deliveriesKey(endpoint.id) });
  const acknowledge = async (d: Delivery): Promise<void> => {
    if (
      !window.confirm(
        `Acknowledge ${d.eventType} for request ${d.requestId}? Do this only once your systems confirmed the erasure by other means: the waiting erasure then goes ahead.`,
      )
    )
      return;
    const parsed = acknowledgePrivacyWebhookInput.safeParse({ deliveryId: d.id });
    if (!parsed.success) return;
    setNotice(null);
    await action.act(`ack:${d.id}`, async () => {
      const result = await api.privacy.webhooks.acknowledge.mutate(parsed.data);
      setNotice(result.resumed ? 'Acknowledged: the erasure goes ahead.' : 'Acknowledged.');
      await reload();
    });
  };

  const caption = `Deliveries to ${endpoint.url}`;
  let body: JSX.Element;
  if (log.isPending) body = <Loading label="Loading deliveries…" />;
  else if (log.isError) body = <ErrorMessage error={log.error} />;
  else {
    const items = log.data.pages.flatMap((p) => p.items);
    body =
      items.length === 0 ? (
        <Empty>No deliveries yet: events are sent when an export or an erasure runs.</Empty>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <code>{d.eventType}</code>
                    <br />
                    <span className="hint">
                      <Time value={d.createdAt} />
                    </span>
                  </td>
                  <td>
                    <code>{d.requestId}</code>
                  </td>
                  <td>
                    <span className={`badge ${STATUS[d.status].tone}`}>
                      {STATUS[d.status].label}
                    </span>
                    {canAcknowledge(d) ? <span className="hint"> · erasure waits</span> : null}
                  </td>
                  <td>{d.attempts}</td>
                  <td>
                    {d.lastStatusCode === null && !d.lastError ? '—' : null}
                    {d.lastStatusCode !== null ? <code>HTTP {d.lastStatusCode}</code> : null}
                    {d.lastError ? <span className="hint"> {d.lastError}</span> : null}
                  </td>
                  <td>
                    <Time value={d.status === 'pending' ? d.nextAttemptAt : null} />
                  </td>
                  <td>
                    {canAcknowledge(d) ? (
                      <button
                        type="button"
                        className="secondary small"
                        disabled={action.pending === `ack:${d.id}`}
                        onClick={() => acknowledge(d)}
                      >
                        Acknowledge
                        <span className="visually-hidden">
                          {' '}
                          {d.eventType} for request {d.requestId}
                        </span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {log.hasNextPage ? (
            <div className="pager">
              <button
                type="button"
                className="secondary small"
                disabled={log.isFetchingNextPage}
                onClick={() => void log.fetchNextPage()}
              >
                {log.isFetchingNextPage ? 'Loading…' : 'Show older deliveries'}
              </button>
            </div>
          ) : null}
        </>
      );
  }
  return (
    <div role="region" aria-label={caption}>
      <FormAlert message={action.error} />
      {notice ? <Notice>{notice}</Notice> : null}
      {body}
      <div className="actions">
        <button
          type="button"
          className="secondary small"
          disabled={log.isFetching}
          onClick={() => void reload()}
        >
          {log.isFetching ? 'Refreshing…' : 'Refresh deliveries'}
        </button>
      </div>
    </div>
  );
}
