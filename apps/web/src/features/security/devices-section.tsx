/**
 * Remembered devices (docs/mfa-factors.md): browsers where the user chose "remember this device"
 * after a second factor. They skip the code at sign-in only; listed next to sessions, revocable one
 * by one or all at once.
 */
import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { FormAlert, RowButton } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { useEnrollmentRequired } from '../../lib/enrollment';
import { useAction } from '../../lib/forms';
import { api, queryClient } from '../../lib/trpc';
import { describeUserAgent } from '../../lib/user-agent';

const browser = (userAgent: string | null): string =>
  describeUserAgent(userAgent, 'Unknown browser');

export function DevicesSection(): JSX.Element | null {
  const enrolling = useEnrollmentRequired(); // enrollment-only sessions: no devices.* (docs/design.md "MFA")
  const devices = useQuery({
    queryKey: ['devices.list'],
    queryFn: () => api.devices.list.query(),
    enabled: !enrolling,
  });
  const action = useAction();
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: ['devices.list'] });
  const revoke = async (id: string): Promise<void> => {
    if (await action.act(id, () => api.devices.revoke.mutate({ id }))) await reload();
  };
  const revokeAll = async (): Promise<void> => {
    if (await action.act('all', () => api.devices.revokeAll.mutate())) await reload();
  };
  if (enrolling) return null;
  return (
    <section className="card" aria-labelledby="devices-heading">
      <h2 id="devices-heading">Remembered devices</h2>
      <p className="hint">
        These browsers skip the two-factor code when you sign in with your password. Sensitive
        actions still ask for a code. Changing your password or signing out everywhere forgets them
        all.
      </p>
      <FormAlert message={action.error} />
      <QueryView query={devices} feature="Remembered devices">
        {(list) =>
          list.length === 0 ? (
            <Empty>No remembered devices.</Empty>
          ) : (
            <>
              <table>
                <caption className="visually-hidden">Your remembered devices</caption>
                <thead>
                  <tr>
                    <th scope="col">Browser</th>
                    <th scope="col">IP address</th>
                    <th scope="col">Remembered</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Until</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((d) => (
                    <tr key={d.id}>
                      <td>
                        {browser(d.userAgent)}{' '}
                        {d.current ? <span className="badge">This browser</span> : null}
                      </td>
                      <td>{d.ipAddress ?? '—'}</td>
                      <td>
                        <Time value={d.createdAt} />
                      </td>
                      <td>{d.lastUsedAt ? <Time value={d.lastUsedAt} /> : 'never'}</td>
                      <td>
                        <Time value={d.expiresAt} />
                      </td>
                      <td>
                        <RowButton
                          label="Forget"
                          subject={browser(d.userAgent)}
                          disabled={action.pending === d.id}
                          onClick={() => revoke(d.id)}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button
                type="button"
                className="secondary"
                onClick={revokeAll}
                disabled={action.pending === 'all'}
              >
                Forget all devices
              </button>
            </>
          )
        }
      </QueryView>
    </section>
  );
}
