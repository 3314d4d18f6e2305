/**
 * The table of privacy webhook endpoints: enable/disable, rotate the signing secret, delete, and
 * open each endpoint's delivery log in a disclosure row.
 */
import { rotatePrivacyWebhookSecretInput } from '@tessera/api-contract/inputs';
import { Fragment, useId, useState, type JSX } from 'react';
import { FormAlert, Notice, RowButton } from '../../components/fields';
import { Empty, Time } from '../../components/states';
import { useAction } from '../../lib/forms';
import { api, type Outputs } from '../../lib/trpc';
import { DeliveryLog } from './webhook-deliveries';

type Endpoint = Outputs['privacy']['webhooks']['list'][number];

const MAX_GRACE_HOURS = 24;

/** A signing secret to show once (after create or rotate). */
export interface Shown {
  secret: string;
  title: string;
  note?: string;
}

export function EndpointTable({
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
                      <RowButton
                        label="Delete"
                        subject={e.url}
                        disabled={action.pending === `delete:${e.id}`}
                        onClick={() => remove(e)}
                      />
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
