/** The apps the user let sign them in through Tessera (oidc.myApps), each revocable. */
import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { FormAlert, RowButton } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { useAction } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type App = Outputs['oidc']['myApps'][number];
const APPS = ['oidc.myApps'];

export function AuthorizedAppsSection(): JSX.Element {
  const apps = useQuery({ queryKey: APPS, queryFn: () => api.oidc.myApps.query() });
  const action = useAction();
  const revoke = async (app: App): Promise<void> => {
    if (!window.confirm(`Remove “${app.name}”? It loses access and must ask you again.`)) return;
    if (
      await action.act(`revoke:${app.clientId}`, () =>
        api.oidc.revokeMyApp.mutate({ clientId: app.clientId }),
      )
    )
      await queryClient.invalidateQueries({ queryKey: APPS });
  };
  return (
    <section className="card" aria-labelledby="authorized-apps-heading">
      <h2 id="authorized-apps-heading">Apps you allowed</h2>
      <FormAlert message={action.error} />
      <QueryView query={apps} feature="apps">
        {(list) =>
          list.length === 0 ? (
            <Empty>No app signs you in through this account.</Empty>
          ) : (
            <ul className="plain-list">
              {list.map((app) => (
                <li key={app.clientId}>
                  <strong>{app.name}</strong> — {app.scopes.join(', ')} (since{' '}
                  <Time value={app.authorizedAt} />){' '}
                  <RowButton
                    label="Remove"
                    subject={app.name}
                    disabled={action.pending === `revoke:${app.clientId}`}
                    onClick={() => revoke(app)}
                  />
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </section>
  );
}
