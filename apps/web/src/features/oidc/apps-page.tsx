/**
 * Apps (oidc.*, docs/oidc-provider.md): the organisation's own apps that sign users in through
 * Tessera with OpenID Connect. Admins register an app (its client secret is shown once), revoke
 * one, and rotate the signing key. Registering an app and rotating the key need step-up for users
 * with MFA, which the step-up dialog handles.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import {
  FormAlert,
  RowButton,
  SelectField,
  SubmitButton,
  TextAreaField,
  TextField,
} from '../../components/fields';
import { ShownOnceSecret } from '../../components/shown-once';
import { Empty, QueryView, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import type { Me } from '../../lib/session';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';
import { createOidcClientInput } from '@tessera/api-contract/inputs';

type Client = Outputs['oidc']['listClients'][number];

const CLIENTS = ['oidc.listClients'];
const KEYS = ['oidc.listSigningKeys'];

const KINDS = [
  { value: 'web', label: 'Web app with a server (confidential, gets a secret)' },
  { value: 'spa', label: 'Single-page app in the browser (public, PKCE)' },
  { value: 'native', label: 'Mobile, desktop or CLI app (public, PKCE, device flow)' },
  { value: 'machine', label: 'Machine-to-machine (client credentials, gets a secret)' },
] as const;

const lines = (value: string | undefined): string[] =>
  (value ?? '')
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function AppsPage({ me }: { me: Me }): JSX.Element {
  const issuer = `${window.location.origin}/oidc/${me.tenant.slug}`;
  return (
    <>
      <h1>Apps</h1>
      <p>
        Your own apps sign your users in with OpenID Connect through Tessera. Their issuer is{' '}
        <code aria-label="Issuer">{issuer}</code> (discovery at{' '}
        <code>{`${issuer}/.well-known/openid-configuration`}</code>).
      </p>
      <ClientsSection />
      <KeysSection />
    </>
  );
}

function ClientsSection(): JSX.Element {
  const clients = useQuery({ queryKey: CLIENTS, queryFn: () => api.oidc.listClients.query() });
  const [shown, setShown] = useState<{ secret: string; name: string; clientId: string } | null>(
    null,
  );
  const [created, setCreated] = useState<string | null>(null);
  const form = useForm(['name', 'kind', 'redirectUris', 'postLogoutRedirectUris', 'scopes']);
  const action = useAction();
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: CLIENTS });
  const create = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const v = formValues(target);
    const result = await form.run(
      {
        name: (v['name'] ?? '').trim(),
        kind: v['kind'],
        redirectUris: lines(v['redirectUris']),
        postLogoutRedirectUris: lines(v['postLogoutRedirectUris']),
        scopes: lines(v['scopes']),
      },
      (data: Inputs['oidc']['createClient']) => api.oidc.createClient.mutate(data),
      createOidcClientInput,
    );
    if (!result) return;
    target.reset();
    setCreated(result.client.clientId);
    if (result.clientSecret)
      setShown({
        secret: result.clientSecret,
        name: result.client.name,
        clientId: result.client.clientId,
      });
    await reload();
  };
  const revoke = async (c: Client): Promise<void> => {
    if (
      !window.confirm(`Revoke “${c.name}”? Its users are signed out of it and must consent again.`)
    )
      return;
    if (await action.act(`revoke:${c.id}`, () => api.oidc.revokeClient.mutate({ id: c.id })))
      await reload();
  };
  return (
    <section className="card" aria-labelledby="oidc-clients-heading">
      <h2 id="oidc-clients-heading">Registered apps</h2>
      {created && !shown ? (
        <p role="status">
          App registered. Its client id is <code>{created}</code>.
        </p>
      ) : null}
      {shown ? (
        <ShownOnceSecret
          title={`Client secret of “${shown.name}” (client id ${shown.clientId})`}
          secret={shown.secret}
          secretLabel="Client secret"
          copyLabel="Copy secret"
          onDone={() => setShown(null)}
        />
      ) : null}
      <FormAlert message={action.error} />
      <QueryView query={clients} feature="apps">
        {(list) =>
          list.length === 0 ? (
            <Empty>No apps registered yet.</Empty>
          ) : (
            <table>
              <caption className="visually-hidden">Registered apps</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Client id</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Redirect URIs</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.id} className={c.revokedAt ? 'muted' : undefined}>
                    <td>
                      {c.name} {c.revokedAt ? <span className="badge warn">Revoked</span> : null}
                    </td>
                    <td>
                      <code>{c.clientId}</code>
                    </td>
                    <td>{c.kind}</td>
                    <td>
                      {c.redirectUris.map((u) => (
                        <code key={u} className="block">
                          {u}
                        </code>
                      ))}
                    </td>
                    <td>
                      <Time value={c.createdAt} />
                    </td>
                    <td>
                      {c.revokedAt ? null : (
                        <RowButton
                          label="Revoke"
                          subject={c.name}
                          disabled={action.pending === `revoke:${c.id}`}
                          onClick={() => revoke(c)}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
      <form onSubmit={create} noValidate>
        <h3>Register an app</h3>
        <FormAlert message={form.formError} />
        <TextField label="Name" name="name" maxLength={100} error={form.errors['name']} />
        <SelectField label="Kind" name="kind" options={KINDS} error={form.errors['kind']} />
        <TextAreaField
          label="Redirect URIs"
          name="redirectUris"
          hint="One per line, matched exactly. https (http only on localhost); mobile apps may use a reverse-domain scheme such as com.example.app:/callback."
          error={form.errors['redirectUris']}
        />
        <TextAreaField
          label="Post-logout redirect URIs"
          name="postLogoutRedirectUris"
          hint="Optional, one per line."
          error={form.errors['postLogoutRedirectUris']}
        />
        <TextField
          label="Scopes"
          name="scopes"
          defaultValue="openid profile email offline_access"
          hint="Separated by spaces: openid, profile, email, offline_access, and your API's scopes such as orders:read."
          error={form.errors['scopes']}
        />
        <SubmitButton pending={form.pending}>Register app</SubmitButton>
      </form>
    </section>
  );
}

function KeysSection(): JSX.Element {
  const keys = useQuery({ queryKey: KEYS, queryFn: () => api.oidc.listSigningKeys.query() });
  const action = useAction();
  const rotate = async (): Promise<void> => {
    if (
      !window.confirm(
        'Rotate the signing key? The new key signs in a minute; the old one stays published until its tokens expire.',
      )
    )
      return;
    if (await action.act('rotate', () => api.oidc.rotateSigningKey.mutate()))
      await queryClient.invalidateQueries({ queryKey: KEYS });
  };
  return (
    <section className="card" aria-labelledby="oidc-keys-heading">
      <h2 id="oidc-keys-heading">Signing keys</h2>
      <FormAlert message={action.error} />
      <QueryView query={keys} feature="signing keys">
        {(list) =>
          list.length === 0 ? (
            <Empty>The first key is made when an app first uses the issuer.</Empty>
          ) : (
            <table>
              <caption className="visually-hidden">Signing keys</caption>
              <thead>
                <tr>
                  <th scope="col">Key id</th>
                  <th scope="col">Signs from</th>
                  <th scope="col">Retired</th>
                  <th scope="col">Published until</th>
                </tr>
              </thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.kid}>
                    <td>
                      <code>{k.kid}</code>
                    </td>
                    <td>
                      <Time value={k.activatesAt} />
                    </td>
                    <td>
                      <Time value={k.retiredAt} />
                    </td>
                    <td>
                      <Time value={k.publishedUntil} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
      <button
        type="button"
        className="secondary"
        disabled={action.pending === 'rotate'}
        onClick={rotate}
      >
        Rotate signing key
      </button>
    </section>
  );
}
