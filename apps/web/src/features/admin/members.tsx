/** Members: list (paged), invite, change role, disable, unlock, reset MFA. */
import { inviteUserInput, setRoleInput } from '@tessera/api-contract/inputs';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SelectField, SubmitButton, TextField } from '../../components/fields';
import { Empty, ErrorMessage, Loading, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import type { Me } from '../../lib/session';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Member = Outputs['users']['list']['items'][number];

const ROLES = ['member', 'admin', 'compliance', 'owner'] as const;
const CUSTOM = 'custom:';

/** Built-in roles, then the organisation's own (docs/roles.md) as `custom:<id>`. */
function useRoleOptions(me: Me): { value: string; label: string }[] {
  const custom = useQuery({
    queryKey: ['roles.list'],
    queryFn: () => api.roles.list.query(),
    enabled: me.permissions.includes('roles:read'),
  });
  const own = (custom.data?.roles ?? []).flatMap((r) =>
    r.id ? [{ value: `${CUSTOM}${r.id}`, label: `${r.name} (custom)` }] : [],
  );
  return [...ROLES.map((r) => ({ value: r, label: r })), ...own];
}

/** A choice of the role select as the contract takes it: a custom role sits on a member. */
function roleChoice(value: string): { role: string; customRoleId: string | null } {
  return value.startsWith(CUSTOM)
    ? { role: 'member', customRoleId: value.slice(CUSTOM.length) }
    : { role: value, customRoleId: null };
}

export function MembersSection({ me }: { me: Me }): JSX.Element {
  const members = useInfiniteQuery({
    queryKey: ['users.list'],
    queryFn: ({ pageParam }) =>
      api.users.list.query(pageParam ? { cursor: pageParam, limit: 50 } : { limit: 50 }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: ['users.list'] });
  const run = async (key: string, fn: () => Promise<unknown>, done: string): Promise<void> => {
    setNotice(null);
    if (await action.act(key, fn)) {
      setNotice(done);
      await reload();
    }
  };
  const items = members.data?.pages.flatMap((page) => page.items) ?? [];
  const roleOptions = useRoleOptions(me);
  return (
    <section className="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <InviteForm me={me} onInvited={reload} roleOptions={roleOptions} />
      {notice ? <Notice>{notice}</Notice> : null}
      <FormAlert message={action.error} />
      {members.isPending ? <Loading label="Loading members…" /> : null}
      {members.isError ? <ErrorMessage error={members.error} /> : null}
      {members.isSuccess && items.length === 0 ? <Empty>No members yet.</Empty> : null}
      {items.length > 0 ? (
        <table>
          <caption className="visually-hidden">Members of your organisation</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">2FA</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <MemberRow
                key={m.id}
                member={m}
                me={me}
                pending={action.pending}
                run={run}
                roleOptions={roleOptions}
              />
            ))}
          </tbody>
        </table>
      ) : null}
      {members.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void members.fetchNextPage()}
          disabled={members.isFetchingNextPage}
        >
          {members.isFetchingNextPage ? 'Loading…' : 'Load more members'}
        </button>
      ) : null}
    </section>
  );
}

function MemberRow(props: {
  member: Member;
  me: Me;
  pending: string | null;
  run: (key: string, fn: () => Promise<unknown>, done: string) => Promise<void>;
  roleOptions: { value: string; label: string }[];
}): JSX.Element {
  const { member: m, me, pending, run, roleOptions } = props;
  const current = m.customRoleId ? `${CUSTOM}${m.customRoleId}` : m.role;
  const [role, setRole] = useState<string>(current);
  const [roleError, setRoleError] = useState<string | undefined>(undefined);
  const who = m.displayName ? `${m.displayName} (${m.email})` : m.email;
  const self = m.id === me.user.id;
  const saveRole = (): void => {
    const parsed = setRoleInput.safeParse({ userId: m.id, ...roleChoice(role) });
    if (!parsed.success) return setRoleError('Choose a role.');
    setRoleError(undefined);
    const label = roleOptions.find((o) => o.value === role)?.label ?? role;
    void run(
      `role:${m.id}`,
      () => api.users.setRole.mutate(parsed.data),
      `${m.email} is now ${label}.`,
    );
  };
  const confirmThen = (
    question: string,
    key: string,
    fn: () => Promise<unknown>,
    done: string,
  ): void => {
    if (window.confirm(question)) void run(key, fn, done);
  };
  return (
    <tr>
      <td>
        {who} {self ? <span className="badge">You</span> : null}{' '}
        {m.disabled ? <span className="badge warn">Disabled</span> : null}
      </td>
      <td>
        <div className="inline">
          <SelectField
            label={`Role of ${m.email}`}
            name="role"
            options={roleOptions}
            value={role}
            onChange={(e) => setRole(e.target.value)}
            error={roleError}
            hideLabel
          />
          <button
            type="button"
            className="small"
            disabled={role === current || pending === `role:${m.id}`}
            onClick={saveRole}
          >
            Save<span className="visually-hidden"> role of {m.email}</span>
          </button>
        </div>
      </td>
      <td>
        {m.mfaEnabled ? <span className="badge ok">On</span> : <span className="badge">Off</span>}
      </td>
      <td>
        <Time value={m.lastLoginAt} />
      </td>
      <td>
        <div className="row-actions">
          {!m.disabled && !self ? (
            <button
              type="button"
              className="secondary small"
              onClick={() =>
                confirmThen(
                  `Disable ${m.email}? Their sessions end now.`,
                  `disable:${m.id}`,
                  () => api.users.disable.mutate({ userId: m.id }),
                  `${m.email} was disabled.`,
                )
              }
            >
              Disable<span className="visually-hidden"> {m.email}</span>
            </button>
          ) : null}
          {self ? null : (
            <button
              type="button"
              className="secondary small"
              onClick={() =>
                void run(
                  `unlock:${m.id}`,
                  () => api.users.unlock.mutate({ userId: m.id }),
                  `${m.email} can sign in again.`,
                )
              }
            >
              Unlock<span className="visually-hidden"> {m.email}</span>
            </button>
          )}
          {m.mfaEnabled && !self ? (
            <button
              type="button"
              className="secondary small"
              onClick={() =>
                confirmThen(
                  `Reset two-factor authentication for ${m.email}? Their factors and sessions are removed.`,
                  `mfa:${m.id}`,
                  () => api.users.resetMfa.mutate({ userId: m.id }),
                  `Two-factor authentication of ${m.email} was reset.`,
                )
              }
            >
              Reset 2FA<span className="visually-hidden"> of {m.email}</span>
            </button>
          ) : null}
        </div>
      </td>
    </tr>
  );
}

function InviteForm(props: {
  me: Me;
  onInvited: () => Promise<void>;
  roleOptions: { value: string; label: string }[];
}): JSX.Element {
  const { me, onInvited, roleOptions } = props;
  const form = useForm(['email', 'role', 'customRoleId']);
  const [sent, setSent] = useState<string | null>(null);
  const roles =
    me.user.role === 'owner' ? roleOptions : roleOptions.filter((r) => r.value !== 'owner');
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const values = formValues(target);
    const result = await form.run(
      { email: values['email'], ...roleChoice(values['role'] ?? 'member') },
      (input) => api.users.invite.mutate(input),
      inviteUserInput,
    );
    if (!result) return;
    setSent(`Invitation sent to ${values['email'] ?? ''}.`);
    target.reset();
    await onInvited();
  };
  return (
    <form onSubmit={submit} noValidate className="inline-form" aria-label="Invite a member">
      <FormAlert message={form.formError} />
      {sent ? <Notice>{sent}</Notice> : null}
      <TextField
        label="Email to invite"
        name="email"
        type="email"
        autoComplete="off"
        required
        error={form.errors['email']}
      />
      <SelectField
        label="Role"
        name="role"
        options={roles}
        defaultValue="member"
        error={form.errors['role']}
      />
      <SubmitButton pending={form.pending} pendingText="Inviting…">
        Invite
      </SubmitButton>
    </form>
  );
}
