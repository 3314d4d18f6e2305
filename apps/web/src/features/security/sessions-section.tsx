/** Active sessions of the signed-in user, with revoke and "sign out everywhere else". */
import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { FormAlert } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { useAction } from '../../lib/forms';
import { navigate } from '../../lib/router';
import { refreshSession } from '../../lib/session';
import { api, queryClient } from '../../lib/trpc';
import { describeUserAgent } from '../../lib/user-agent';

const device = (userAgent: string | null): string => describeUserAgent(userAgent, 'Unknown device');

export function SessionsSection(): JSX.Element {
  const sessions = useQuery({
    queryKey: ['sessions.list'],
    queryFn: () => api.sessions.list.query(),
  });
  const action = useAction();
  const reload = (): Promise<void> =>
    queryClient.invalidateQueries({ queryKey: ['sessions.list'] });
  const revoke = async (id: string, current: boolean): Promise<void> => {
    if (!(await action.act(id, () => api.sessions.revoke.mutate({ sessionId: id })))) return;
    if (current) {
      await refreshSession();
      navigate('/sign-in', { replace: true });
    } else await reload();
  };
  const revokeOthers = async (): Promise<void> => {
    if (await action.act('others', () => api.sessions.revokeOthers.mutate())) await reload();
  };
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Active sessions</h2>
      <FormAlert message={action.error} />
      <QueryView query={sessions} feature="Sessions">
        {(list) =>
          list.length === 0 ? (
            <Empty>No active sessions.</Empty>
          ) : (
            <>
              <table>
                <caption className="visually-hidden">Your active sessions</caption>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">IP address</th>
                    <th scope="col">Signed in</th>
                    <th scope="col">Last active</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((s) => (
                    <tr key={s.id}>
                      <td>
                        {device(s.userAgent)}{' '}
                        {s.current ? <span className="badge">This session</span> : null}
                        {s.aal === 2 ? <span className="badge ok">2FA</span> : null}
                      </td>
                      <td>{s.ipAddress ?? '—'}</td>
                      <td>
                        <Time value={s.createdAt} />
                      </td>
                      <td>
                        <Time value={s.lastActivityAt} />
                      </td>
                      <td>
                        <Time value={s.expiresAt} />
                      </td>
                      <td>
                        <button
                          type="button"
                          className="secondary small"
                          disabled={action.pending === s.id}
                          onClick={() => revoke(s.id, s.current)}
                        >
                          {s.current ? 'Sign out' : 'Revoke'}
                          <span className="visually-hidden"> session {device(s.userAgent)}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {list.length > 1 ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={revokeOthers}
                  disabled={action.pending === 'others'}
                >
                  Sign out all other sessions
                </button>
              ) : null}
            </>
          )
        }
      </QueryView>
    </section>
  );
}
