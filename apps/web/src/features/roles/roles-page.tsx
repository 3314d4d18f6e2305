/**
 * Roles (roles.*, docs/roles.md): the built-in roles with their permission sets, and the
 * organisation's own roles, which admins create, edit and delete. Only permissions the signed-in
 * user holds are offered (the server refuses the others anyway); every change needs step-up for
 * users with MFA, which the step-up dialog handles.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { createRoleInput, updateRoleInput } from '@tessera/api-contract/inputs';
import {
  ChoiceGroup,
  FormAlert,
  Notice,
  RowButton,
  SubmitButton,
  TextField,
} from '../../components/fields';
import { QueryView } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import type { Me } from '../../lib/session';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Listing = Outputs['roles']['list'];
type Role = Listing['roles'][number];

export const ROLES_KEY = ['roles.list'];

export function RolesPage({ me }: { me: Me }): JSX.Element {
  const roles = useQuery({ queryKey: ROLES_KEY, queryFn: () => api.roles.list.query() });
  const canWrite = me.permissions.includes('roles:write');
  return (
    <>
      <h1>Roles</h1>
      <p>
        A role is a set of permissions. The built-in roles are fixed; your own roles are given to
        members in place of a built-in role, on top of what every member may do with their own
        account. Nobody can grant a permission they do not hold.
      </p>
      <QueryView query={roles} feature="roles">
        {(listing) => (
          <>
            <RolesTable listing={listing} me={me} canWrite={canWrite} />
            {canWrite ? <RoleForm listing={listing} me={me} /> : null}
          </>
        )}
      </QueryView>
    </>
  );
}

function RolesTable(props: { listing: Listing; me: Me; canWrite: boolean }): JSX.Element {
  const { listing, me, canWrite } = props;
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const action = useAction();
  const remove = async (role: Role): Promise<void> => {
    if (!role.id) return;
    const id = role.id;
    const question = `Delete the role “${role.name}”? Its ${role.members} member(s) become plain members at their next request.`;
    if (!window.confirm(question)) return;
    if (await action.act(`delete:${id}`, () => api.roles.delete.mutate({ id }))) {
      setNotice(`The role “${role.name}” was deleted.`);
      await queryClient.invalidateQueries({ queryKey: ROLES_KEY });
    }
  };
  return (
    <section className="card" aria-labelledby="roles-heading">
      <h2 id="roles-heading">Roles of your organisation</h2>
      {notice ? <Notice>{notice}</Notice> : null}
      <FormAlert message={action.error} />
      <table>
        <caption className="visually-hidden">Roles and their permissions</caption>
        <thead>
          <tr>
            <th scope="col">Role</th>
            <th scope="col">Permissions</th>
            <th scope="col">Members</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {listing.roles.map((role) => (
            <tr key={role.id ?? role.name}>
              <td>
                {role.name} {role.builtIn ? <span className="badge">Built-in</span> : null}
                {role.description ? <div className="muted">{role.description}</div> : null}
              </td>
              <td>
                {role.permissions.length === 0 ? 'Own account only' : role.permissions.join(', ')}
              </td>
              <td>{role.members}</td>
              <td>
                {role.id && canWrite ? (
                  <div className="row-actions">
                    <RowButton
                      label="Edit"
                      subject={role.name}
                      onClick={() => setEditing(editing === role.id ? null : role.id)}
                    />
                    <RowButton
                      label="Delete"
                      subject={role.name}
                      disabled={action.pending === `delete:${role.id}`}
                      onClick={() => void remove(role)}
                    />
                  </div>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing ? (
        <RoleForm
          key={editing}
          listing={listing}
          me={me}
          role={listing.roles.find((r) => r.id === editing)}
          onDone={() => setEditing(null)}
        />
      ) : null}
    </section>
  );
}

/** Creates a role, or edits `role` when given. */
function RoleForm(props: {
  listing: Listing;
  me: Me;
  role?: Role | undefined;
  onDone?: () => void;
}): JSX.Element {
  const { listing, me, role, onDone } = props;
  const form = useForm(['name', 'description', 'permissions']);
  const [saved, setSaved] = useState<string | null>(null);
  // The owner may grant every permission; anyone else only those they hold.
  const offered = listing.permissions.filter(
    (p) => me.user.role === 'owner' || me.permissions.includes(p.name),
  );
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const values = formValues(target);
    const permissions = new FormData(target)
      .getAll('permissions')
      .filter((v): v is string => typeof v === 'string');
    const description = (values['description'] ?? '').trim() || null;
    const name = (values['name'] ?? '').trim();
    const done = role?.id
      ? await form.run(
          { id: role.id, name, description, permissions },
          (input) => api.roles.update.mutate(input),
          updateRoleInput,
        )
      : await form.run(
          { name, description, permissions },
          (input) => api.roles.create.mutate(input),
          createRoleInput,
        );
    if (!done) return;
    setSaved(role ? `The role “${name}” was saved.` : `The role “${name}” was created.`);
    if (!role) target.reset();
    await queryClient.invalidateQueries({ queryKey: ROLES_KEY });
    onDone?.();
  };
  const title = role ? `Edit “${role.name}”` : 'Create a role';
  return (
    <form onSubmit={submit} noValidate aria-label={title} className="card">
      <h2>{title}</h2>
      <FormAlert message={form.formError} />
      {saved ? <Notice>{saved}</Notice> : null}
      <TextField
        label="Name"
        name="name"
        required
        defaultValue={role?.name ?? ''}
        error={form.errors['name']}
      />
      <TextField
        label="Description (optional)"
        name="description"
        defaultValue={role?.description ?? ''}
        error={form.errors['description']}
      />
      <ChoiceGroup
        legend="Permissions"
        name="permissions"
        type="checkbox"
        defaultValue={role?.permissions ?? []}
        error={form.errors['permissions']}
        hint="Members keep their own account, sessions and factors whatever the role."
        options={offered.map((p) => ({ value: p.name, label: `${p.name}: ${p.description}` }))}
      />
      <SubmitButton pending={form.pending} pendingText="Saving…">
        {role ? 'Save role' : 'Create role'}
      </SubmitButton>
    </form>
  );
}
