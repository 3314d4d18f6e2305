/**
 * API keys (apiKeys.*): create with scopes, CIDR allowlist, rate limit and expiry; the key is
 * shown once. Rotate (old key valid for a grace period) and revoke. Secret keys need step-up
 * for users with MFA, which the form's step-up dialog handles.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type JSX } from 'react';
import { FormAlert, RowButton } from '../../components/fields';
import { ShownOnceSecret } from '../../components/shown-once';
import { Empty, QueryView, Time } from '../../components/states';
import { useAction } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';
import { CreateKeyForm } from './create-key-form';

type Key = Outputs['apiKeys']['list'][number];
type Created = Outputs['apiKeys']['create'];

const LIST_KEY = ['apiKeys.list'];

export function ApiKeysSection(): JSX.Element {
  const keys = useQuery({ queryKey: LIST_KEY, queryFn: () => api.apiKeys.list.query() });
  const [shown, setShown] = useState<{ key: string; name: string } | null>(null);
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });
  const minted = async (created: Created): Promise<void> => {
    setShown({ key: created.key, name: created.apiKey.name });
    await reload();
  };
  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <QueryView query={keys} feature="API keys">
        {(list) => (
          <>
            {shown ? (
              <ShownOnceSecret
                title={`New key “${shown.name}”`}
                secret={shown.key}
                secretLabel="New API key"
                copyLabel="Copy key"
                onDone={() => setShown(null)}
              />
            ) : null}
            <KeyTable keys={list} onMinted={minted} onChanged={reload} />
            <details className="create-key">
              <summary>Create an API key</summary>
              <CreateKeyForm onCreated={minted} />
            </details>
          </>
        )}
      </QueryView>
    </section>
  );
}

function KeyTable({
  keys,
  onMinted,
  onChanged,
}: {
  keys: readonly Key[];
  onMinted: (c: Created) => Promise<void>;
  onChanged: () => Promise<void>;
}): JSX.Element {
  const action = useAction();
  const revoke = async (key: Key): Promise<void> => {
    if (!window.confirm(`Revoke “${key.name}”? Calls with it fail at once.`)) return;
    if (await action.act(`revoke:${key.id}`, () => api.apiKeys.revoke.mutate({ id: key.id })))
      await onChanged();
  };
  const rotate = async (key: Key): Promise<void> => {
    const answer = window.prompt(
      `Rotate “${key.name}”: for how many seconds should the old key keep working?`,
      '3600',
    );
    if (answer === null) return;
    const graceSeconds = Number(answer);
    await action.act(`rotate:${key.id}`, async () => {
      await onMinted(
        await api.apiKeys.rotate.mutate({
          id: key.id,
          graceSeconds: Number.isFinite(graceSeconds) ? graceSeconds : 0,
        }),
      );
    });
  };
  if (keys.length === 0) return <Empty>No API keys yet.</Empty>;
  return (
    <>
      <FormAlert message={action.error} />
      <table>
        <caption className="visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Scopes</th>
            <th scope="col">Limits</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} className={k.revokedAt ? 'muted' : undefined}>
              <td>
                {k.name} {k.revokedAt ? <span className="badge warn">Revoked</span> : null}
              </td>
              <td>
                <code>{k.prefix}…</code>
                <br />
                <span className="hint">
                  {k.type}, {k.environment}
                </span>
              </td>
              <td>{k.scopes.length > 0 ? k.scopes.join(', ') : '—'}</td>
              <td>
                {k.rateLimit ? `${k.rateLimit.max} per ${k.rateLimit.windowSeconds} s` : 'Default'}
                {k.allowedCidrs.length > 0 ? (
                  <span className="hint"> · from {k.allowedCidrs.join(', ')}</span>
                ) : null}
              </td>
              <td>
                <Time value={k.lastUsedAt} />
              </td>
              <td>
                <Time value={k.expiresAt} />
              </td>
              <td>
                <div className="row-actions">
                  {k.revokedAt ? null : (
                    <>
                      <RowButton
                        label="Rotate"
                        subject={k.name}
                        disabled={action.pending === `rotate:${k.id}`}
                        onClick={() => rotate(k)}
                      />
                      <RowButton
                        label="Revoke"
                        subject={k.name}
                        disabled={action.pending === `revoke:${k.id}`}
                        onClick={() => revoke(k)}
                      />
                    </>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
