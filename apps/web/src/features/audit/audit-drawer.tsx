/**
 * One event in a modal dialog (native <dialog>: focus is trapped and Escape closes it): who did
 * what to whom, the before and after values, the metadata, and why the risk score is what it is.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, type JSX } from 'react';
import { QueryView, Time } from '../../components/states';
import { api } from '../../lib/trpc';
import { Party } from './audit-party';

function Json({ label, value }: { label: string; value: unknown }): JSX.Element {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value === null ? '—' : <pre className="json">{JSON.stringify(value, null, 2)}</pre>}</dd>
    </>
  );
}

export function AuditDrawer({ seq, onClose }: { seq: number; onClose: () => void }): JSX.Element {
  const dialog = useRef<HTMLDialogElement>(null);
  const detail = useQuery({
    queryKey: ['audit.get', seq],
    queryFn: () => api.audit.get.query({ seq }),
  });
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog ref={dialog} className="drawer" aria-labelledby="drawer-heading" onClose={onClose}>
      <div className="chart-head">
        <h2 id="drawer-heading">Event #{seq}</h2>
        <button type="button" className="secondary small" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
      <QueryView query={detail} feature="Event">
        {({ event, names, risk }) => (
          <>
            <dl className="facts">
              <dt>Action</dt>
              <dd>
                <code>{event.action}</code>
              </dd>
              <dt>When</dt>
              <dd>
                <Time value={event.occurredAt} />
              </dd>
              <dt>Actor</dt>
              <dd>
                <Party type={event.actor.type} id={event.actor.id} names={names} />
              </dd>
              <dt>Target</dt>
              <dd>
                {event.target ? (
                  <Party type={event.target.type} id={event.target.id} names={names} />
                ) : (
                  '—'
                )}
              </dd>
              <dt>IP address</dt>
              <dd>{event.ip ?? (event.redactedAt ? 'erased' : '—')}</dd>
              <dt>Browser</dt>
              <dd>{event.userAgent ?? '—'}</dd>
              <Json label="Before" value={event.before} />
              <Json label="After" value={event.after} />
              <Json label="Details" value={event.metadata} />
            </dl>
            <section aria-labelledby="risk-heading">
              <h3 id="risk-heading">Risk score {risk.score}</h3>
              <p>{risk.summary}</p>
              {risk.basis === 'signals' && risk.combinations.length > 0 ? (
                <ul aria-label="Signals that give this score">
                  {risk.combinations.map((set, i) => (
                    <li key={i}>
                      {set.length === 0
                        ? 'no signal'
                        : set.map((s) => `${s.label} (+${s.points})`).join(' + ')}
                    </li>
                  ))}
                </ul>
              ) : null}
            </section>
          </>
        )}
      </QueryView>
    </dialog>
  );
}
