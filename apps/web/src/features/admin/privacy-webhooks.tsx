/**
 * Privacy webhooks (privacy.webhooks.*, GDPR Art. 19; docs/privacy.md "Webhooks"): the tenant's
 * endpoints that receive signed events when an export or an erasure starts and completes.
 * Owners and admins create, enable/disable, rotate and delete them here; the `whsec_` signing
 * secret is shown once (create, rotate) and kept in component state only, never stored. Each
 * endpoint's delivery log opens in a disclosure, with "Acknowledge" for an erasure that waits.
 */
import {
  acknowledgePrivacyWebhookInput,
  createPrivacyWebhookInput,
  privacyWebhookEvent,
  rotatePrivacyWebhookSecretInput,
} from '@tessera/api-contract/inputs';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Fragment, useId, useState, type FormEvent, type JSX } from 'react';
import { ChoiceGroup, FormAlert, Notice, SubmitButton, TextField } from '../../components/fields';
import { Empty, ErrorMessage, Loading, QueryView, Time } from '../../components/states';
import { ShownOnceSecret } from '../../components/shown-once';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';

type Endpoint = Outputs['privacy']['webhooks']['list'][number];
type Delivery = Outputs['privacy']['webhooks']['deliveries']['items'][number];
type CreateInput = Inputs['privacy']['webhooks']['create'];

const LIST_KEY = ['privacy.webhooks.list'];
const deliveriesKey = (endpointId: string) => ['privacy.webhooks.deliveries', endpointId];
const EVENTS = privacyWebhookEvent.options;
const EVENT_LABELS: Record<(typeof EVENTS)[number], string> = {
  'privacy.export.started': 'Export started (privacy.export.started)',
  'privacy.export.completed': 'Export completed (privacy.export.completed)',
  'privacy.erasure.started': 'Erasure started (privacy.erasure.started)',
  'privacy.erasure.completed': 'Erasure completed (privacy.erasure.completed)',
};
const FIELDS = ['url', 'description', 'events', 'requireAck'];
const MAX_GRACE_HOURS = 24;

const isUrl = (value: string): boolean => {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
};

interface Shown {
  secret: string;
  title: string;
  note?: string;
}

export function PrivacyWebhooksSection(): JSX.Element {
  const endpoints = useQuery({
    queryKey: LIST_KEY,
    queryFn: () => api.privacy.webhooks.list.query(),
  });
  const [shown, setShown] = useState<Shown | null>(null);
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });
  return (
    <section className="card" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Privacy webhooks</h2>
      <p>
        Your systems receive a signed event when an export or an erasure starts and completes, so
        they can erase their own copies (GDPR Art. 19). Events carry ids only, never personal data.
      </p>
      <QueryView query={endpoints} feature="Privacy webhooks">
        {(list) => (
          <>
            {shown ? (
              <ShownOnceSecret
                title={shown.title}
                secret={shown.secret}
                secretLabel="New webhook signing secret"
                copyLabel="Copy secret"
                onDone={() => setShown(null)}
              >
                <p>
                  Your receiver verifies the <code>Tessera-Signature</code> header with it.
                </p>
                {shown.note ? <p>{shown.note}</p> : null}
              </ShownOnceSecret>
            ) : null}
            <EndpointTable endpoints={list} onSecret={setShown} onChanged={reload} />
            <details className="create-webhook">
              <summary>Add a webhook endpoint</summary>
              <CreateWebhookForm
                onCreated={async (created) => {
                  setShown({
                    secret: created.secret,
                    title: `Signing secret for ${created.endpoint.url}`,
                  });
                  await reload();
                }}
              />
            </details>
          </>
        )}
      </QueryView>
    </section>
  );
}

function CreateWebhookForm({
  onCreated,
}: {
  onCreated: (created: Outputs['privacy']['webhooks']['create']) => Promise<void>;
}): JSX.Element {
  const form = useForm(FIELDS);
  const ackId = useId();
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const raw = formValues(target);
    const url = (raw['url'] ?? '').trim();
    const description = (raw['description'] ?? '').trim();
    const events = new FormData(target)
      .getAll('events')
      .filter((e): e is (typeof EVENTS)[number] => (EVENTS as readonly unknown[]).includes(e));
    const requireAck = raw['requireAck'] === 'on';
    // Friendlier words than the schema's bounds for the two mistakes people make.
    const early: Record<string, string> = {};
    if (!url) early['url'] = 'Enter the URL that receives the events.';
    else if (!isUrl(url))
      early['url'] = 'Enter a full URL, e.g. https://hooks.example.com/tessera.';
    if (events.length === 0) early['events'] = 'Choose at least one event.';
    if (Object.keys(early).length > 0) return form.fail(early);
    const input: CreateInput = {
      url,
      events,
      requireAck,
      ...(description ? { description } : {}),
    };
    const created = await form.run(
      input,
      (data: CreateInput) => api.privacy.webhooks.create.mutate(data),
      createPrivacyWebhookInput,
    );
    if (!created) return;
    target.reset();
    await onCreated(created);
  };
  const ackError = form.errors['requireAck'];
  return (
    <form onSubmit={submit} noValidate className="grid-form" aria-label="Add a webhook endpoint">
      <FormAlert message={form.formError} />
      <TextField
        label="Endpoint URL"
        name="url"
        type="url"
        inputMode="url"
        required
        maxLength={2048}
        autoComplete="off"
        hint="https, reachable from the internet; redirects are not followed."
        error={form.errors['url']}
      />
      <TextField
        label="Description (optional)"
        name="description"
        maxLength={200}
        hint="What receives it, e.g. CRM erasure bridge."
        error={form.errors['description']}
      />
      <ChoiceGroup
        legend="Events"
        name="events"
        type="checkbox"
        defaultValue={EVENTS}
        error={form.errors['events']}
        options={EVENTS.map((e) => ({ value: e, label: EVENT_LABELS[e] }))}
      />
      <div className="field checkbox">
        <label>
          <input
            type="checkbox"
            name="requireAck"
            aria-invalid={ackError ? true : undefined}
            aria-describedby={`${ackId}-hint${ackError ? ` ${ackId}-error` : ''}`}
          />{' '}
          Erasure waits for acknowledgement
        </label>
        <p id={`${ackId}-hint`} className="hint">
          Erasures wait until this endpoint answers 2xx to privacy.erasure.started (or staff
          acknowledge it below). Needs the “Erasure started” event.
        </p>
        {ackError ? (
          <p id={`${ackId}-error`} className="field-error">
            {ackError}
          </p>
        ) : null}
      </div>
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Adding…">
          Add endpoint
        </SubmitButton>
      </div>
    </form>
  );
}

function EndpointTable({
  endpoints,
  onSecret,
  onChanged,
}: {
  endpoints: readonly Endpoint[];
  onSecret: (shown: Shown) => void;
  onChanged: () => Promise<void>;
}): JSX.Element {
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const [inputError, setInputError] = useState<string | null>(null);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const baseId = useId();

  const run = async (key: string, fn: () => Promise<unknown>, done: string): Promise<void> => {
    setNotice(null);
    setInputError(null);
    if (await action.act(key, fn)) {
      setNotice(done);
      await onChanged();
    }
  };
  const toggleEnabled = async (e: Endpoint): Promise<void> => {
    if (
      e.enabled &&
      !window.confirm(
        `Disable ${e.url}? Its queued deliveries are cancelled and erasures waiting for it go ahead.`,
      )
    )
      return;
    await run(
      `enable:${e.id}`,
      () => api.privacy.webhooks.update.mutate({ id: e.id, enabled: !e.enabled }),
      `${e.url} is ${e.enabled ? 'disabled' : 'enabled'}.`,
    );
  };
  const remove = async (e: Endpoint): Promise<void> => {
    if (
      !window.confirm(
        `Delete ${e.url}? Its queued deliveries are cancelled, erasures waiting for it go ahead; the delivery log stays.`,
      )
    )
      return;
    await run(
      `delete:${e.id}`,
      () => api.privacy.webhooks.delete.mutate({ id: e.id }),
      `${e.url} is deleted.`,
    );
  };
  const rotate = async (e: Endpoint): Promise<void> => {
    const answer = window.prompt(
      `Rotate the signing secret of ${e.url}: for how many hours (0 to ${MAX_GRACE_HOURS}) should the old secret keep signing too?`,
      '1',
    );
    if (answer === null) return;
    const hours = answer.trim() === '' ? 0 : Number(answer.replace(',', '.'));
    const parsed = rotatePrivacyWebhookSecretInput.safeParse({
      id: e.id,
      graceSeconds: Number.isFinite(hours) ? Math.round(hours * 3600) : Number.NaN,
    });
    if (!parsed.success || hours < 0 || hours > MAX_GRACE_HOURS) {
      setNotice(null);
      setInputError(`Grace period: enter a number of hours from 0 to ${MAX_GRACE_HOURS}.`);
      return;
    }
    setInputError(null);
    setNotice(null);
    await action.act(`rotate:${e.id}`, async () => {
      const rotated = await api.privacy.webhooks.rotateSecret.mutate(parsed.data);
      const until = rotated.endpoint.previousSecretExpiresAt;
      onSecret({
        secret: rotated.secret,
        title: `New signing secret for ${e.url}`,
        note: until
          ? `The previous secret also signs until ${new Date(until).toLocaleString()}.`
          : 'The previous secret no longer signs.',
      });
      await onChanged();
    });
  };
  const toggleOpen = (id: string): void =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  if (endpoints.length === 0)
    return <Empty>No webhook endpoints yet. Add one to tell your systems about erasures.</Empty>;
  return (
    <>
      <FormAlert message={inputError ?? action.error} />
      {notice ? <Notice>{notice}</Notice> : null}
      <table>
        <caption className="visually-hidden">Privacy webhook endpoints</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">Erasure waits</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {endpoints.map((e) => {
            const logId = `${baseId}-log-${e.id}`;
            const expanded = open.has(e.id);
            return (
              <Fragment key={e.id}>
                <tr className={e.enabled ? undefined : 'muted'}>
                  <td>
                    <code>{e.url}</code>
                    {e.description ? <span className="hint"> · {e.description}</span> : null}
                    {e.previousSecretExpiresAt &&
                    new Date(e.previousSecretExpiresAt).getTime() > Date.now() ? (
                      <>
                        <br />
                        <span className="hint">
                          Previous secret signs until <Time value={e.previousSecretExpiresAt} />
                        </span>
                      </>
                    ) : null}
                  </td>
                  <td>
                    {e.events.map((ev, i) => (
                      <Fragment key={ev}>
                        {i > 0 ? <br /> : null}
                        <code>{ev}</code>
                      </Fragment>
                    ))}
                  </td>
                  <td>{e.requireAck ? 'Yes' : 'No'}</td>
                  <td>
                    {e.enabled ? (
                      <span className="badge ok">Enabled</span>
                    ) : (
                      <span className="badge warn">Disabled</span>
                    )}
                  </td>
                  <td>
                    <Time value={e.createdAt} />
                  </td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        className="secondary small"
                        aria-expanded={expanded}
                        aria-controls={expanded ? logId : undefined}
                        onClick={() => toggleOpen(e.id)}
                      >
                        Deliveries<span className="visually-hidden"> of {e.url}</span>
                      </button>
                      <button
                        type="button"
                        className="secondary small"
                        disabled={action.pending === `enable:${e.id}`}
                        onClick={() => toggleEnabled(e)}
                      >
                        {e.enabled ? 'Disable' : 'Enable'}
                        <span className="visually-hidden"> {e.url}</span>
                      </button>
                      <button
                        type="button"
                        className="secondary small"
                        disabled={action.pending === `rotate:${e.id}`}
                        onClick={() => rotate(e)}
                      >
                        Rotate secret<span className="visually-hidden"> of {e.url}</span>
                      </button>
                      <button
                        type="button"
                        className="secondary small"
                        disabled={action.pending === `delete:${e.id}`}
                        onClick={() => remove(e)}
                      >
                        Delete<span className="visually-hidden"> {e.url}</span>
                      </button>
                    </div>
                  </td>
                </tr>
                {expanded ? (
                  <tr id={logId}>
                    <td colSpan={6}>
                      <DeliveryLog endpoint={e} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

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

function DeliveryLog({ endpoint }: { endpoint: Endpoint }): JSX.Element {
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
