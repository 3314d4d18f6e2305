/**
 * Provisioning (scim.*, docs/scim.md): the SCIM endpoint an identity provider is given, its bearer
 * tokens (shown once, revocable), what a SCIM delete does, and which directory groups grant which
 * role. Minting a token, choosing erasure and granting a role by group need step-up for users
 * with MFA, which the step-up dialog handles.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, RowButton, SubmitButton, TextField } from '../../components/fields';
import { ShownOnceSecret } from '../../components/shown-once';
import { Empty, QueryView, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';
import { createScimTokenInput } from '@tessera/api-contract/inputs';

type Token = Outputs['scim']['listTokens'][number];
type Group = Outputs['scim']['listGroups'][number];
type GroupRole = Inputs['scim']['setGroupRole']['role'];

const TOKENS = ['scim.listTokens'];
const SETTINGS = ['scim.settings'];
const GROUPS = ['scim.listGroups'];

export function ScimPage(): JSX.Element {
  return (
    <>
      <h1>Provisioning</h1>
      <p>
        Your identity provider (Okta, Microsoft Entra ID) creates, updates and removes members over
        SCIM 2.0. Give it this base URL and a token below:
      </p>
      <p>
        <code aria-label="SCIM base URL">{`${window.location.origin}/scim/v2`}</code>
      </p>
      <TokensSection />
      <SettingsSection />
      <GroupsSection />
    </>
  );
}

function TokensSection(): JSX.Element {
  const tokens = useQuery({ queryKey: TOKENS, queryFn: () => api.scim.listTokens.query() });
  const [shown, setShown] = useState<{ token: string; name: string } | null>(null);
  const form = useForm(['name']);
  const action = useAction();
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: TOKENS });
  const create = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const name = (formValues(target)['name'] ?? '').trim();
    const created = await form.run(
      { name },
      (data: Inputs['scim']['createToken']) => api.scim.createToken.mutate(data),
      createScimTokenInput,
    );
    if (!created) return;
    target.reset();
    setShown({ token: created.token, name: created.scimToken.name });
    await reload();
  };
  const revoke = async (token: Token): Promise<void> => {
    if (!window.confirm(`Revoke “${token.name}”? Provisioning with it stops at once.`)) return;
    if (await action.act(`revoke:${token.id}`, () => api.scim.revokeToken.mutate({ id: token.id })))
      await reload();
  };
  return (
    <section className="card" aria-labelledby="scim-tokens-heading">
      <h2 id="scim-tokens-heading">SCIM tokens</h2>
      {shown ? (
        <ShownOnceSecret
          title={`New SCIM token “${shown.name}”`}
          secret={shown.token}
          secretLabel="New SCIM token"
          copyLabel="Copy token"
          onDone={() => setShown(null)}
        />
      ) : null}
      <FormAlert message={action.error} />
      <QueryView query={tokens} feature="SCIM tokens">
        {(list) =>
          list.length === 0 ? (
            <Empty>No SCIM tokens yet.</Empty>
          ) : (
            <table>
              <caption className="visually-hidden">SCIM tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Token</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.id} className={t.revokedAt ? 'muted' : undefined}>
                    <td>
                      {t.name} {t.revokedAt ? <span className="badge warn">Revoked</span> : null}
                    </td>
                    <td>
                      <code>{t.prefix}…</code>
                    </td>
                    <td>
                      <Time value={t.createdAt} />
                    </td>
                    <td>
                      <Time value={t.lastUsedAt} />
                    </td>
                    <td>
                      {t.revokedAt ? null : (
                        <RowButton
                          label="Revoke"
                          subject={t.name}
                          disabled={action.pending === `revoke:${t.id}`}
                          onClick={() => revoke(t)}
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
      <form onSubmit={create} noValidate className="inline-form">
        <FormAlert message={form.formError} />
        <TextField
          label="Token name"
          name="name"
          maxLength={100}
          hint="For example the identity provider it is for."
          error={form.errors['name']}
        />
        <SubmitButton pending={form.pending}>Create token</SubmitButton>
      </form>
    </section>
  );
}

function SettingsSection(): JSX.Element {
  const settings = useQuery({ queryKey: SETTINGS, queryFn: () => api.scim.settings.query() });
  const action = useAction();
  const choose = async (deleteAction: 'disable' | 'erase'): Promise<void> => {
    if (await action.act('settings', () => api.scim.updateSettings.mutate({ deleteAction })))
      await queryClient.invalidateQueries({ queryKey: SETTINGS });
  };
  return (
    <section className="card" aria-labelledby="scim-settings-heading">
      <h2 id="scim-settings-heading">When the directory deletes a user</h2>
      <FormAlert message={action.error} />
      <QueryView query={settings} feature="SCIM settings">
        {(current) => (
          <fieldset>
            <legend className="visually-hidden">Action on delete</legend>
            {(
              [
                ['disable', 'Disable the account and keep its data'],
                ['erase', 'Disable the account and erase its data (GDPR erasure)'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="choice">
                <input
                  type="radio"
                  name="deleteAction"
                  value={value}
                  checked={current.deleteAction === value}
                  disabled={action.pending !== null}
                  onChange={() => choose(value)}
                />{' '}
                {label}
              </label>
            ))}
          </fieldset>
        )}
      </QueryView>
    </section>
  );
}

function GroupsSection(): JSX.Element {
  const groups = useQuery({ queryKey: GROUPS, queryFn: () => api.scim.listGroups.query() });
  const action = useAction();
  const setRole = async (group: Group, role: GroupRole): Promise<void> => {
    if (
      await action.act(`role:${group.id}`, () =>
        api.scim.setGroupRole.mutate({ groupId: group.id, role }),
      )
    )
      await queryClient.invalidateQueries({ queryKey: GROUPS });
  };
  return (
    <section className="card" aria-labelledby="scim-groups-heading">
      <h2 id="scim-groups-heading">Directory groups and roles</h2>
      <p className="hint">
        Members of a group with a role get that role (the highest of their groups). Owners are never
        changed by the directory.
      </p>
      <FormAlert message={action.error} />
      <QueryView query={groups} feature="directory groups">
        {(list) =>
          list.length === 0 ? (
            <Empty>No groups provisioned yet.</Empty>
          ) : (
            <table>
              <caption className="visually-hidden">Directory groups</caption>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Members</th>
                  <th scope="col">Role</th>
                </tr>
              </thead>
              <tbody>
                {list.map((g) => (
                  <tr key={g.id}>
                    <td>{g.displayName}</td>
                    <td>{g.members}</td>
                    <td>
                      <label className="visually-hidden" htmlFor={`role-${g.id}`}>
                        Role for {g.displayName}
                      </label>
                      <select
                        id={`role-${g.id}`}
                        value={g.role ?? ''}
                        disabled={action.pending === `role:${g.id}`}
                        onChange={(e) =>
                          setRole(g, e.target.value === '' ? null : (e.target.value as GroupRole))
                        }
                      >
                        <option value="">No role</option>
                        <option value="member">member</option>
                        <option value="compliance">compliance</option>
                        <option value="admin">admin</option>
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </section>
  );
}
