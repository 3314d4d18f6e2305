/**
 * SAML single sign-on (tenant.saml.*; docs/sso.md "SAML"): the tenant's SAML connections, the
 * values its identity provider needs (SP entity id / metadata URL, ACS URL), IdP metadata upload
 * (file, pasted XML or URL), certificate rotation (a second certificate beside the first, then
 * the old one removed), the sign-in rules, a test sign-in, enabling and deleting. Every change
 * asks for step-up when the last second factor is older than 10 minutes; fields that decide whom
 * the IdP may sign in as are owner-only (the server says so to admins).
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type ChangeEvent, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SubmitButton, TextAreaField, TextField } from '../../components/fields';
import { Empty, QueryView, formatDate } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';

type Connection = Outputs['tenant']['saml']['list'][number];
type UpdateInput = Inputs['tenant']['saml']['update'];
const LIST_KEY = ['tenant.saml.list'];
const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });

export function SamlConnectionsSection(): JSX.Element {
  const list = useQuery({ queryKey: LIST_KEY, queryFn: () => api.tenant.saml.list.query() });
  return (
    <section className="card" aria-labelledby="saml-heading">
      <h2 id="saml-heading">SAML single sign-on</h2>
      <p>
        Let people sign in through your company&apos;s identity provider (Okta, Microsoft Entra ID,
        Google Workspace, ADFS). Give the provider the values shown for each connection, then import
        its metadata here.
      </p>
      <QueryView query={list} feature="SAML single sign-on">
        {(connections) => (
          <>
            {connections.length === 0 ? <Empty>No SAML connection yet.</Empty> : null}
            {connections.map((c) => (
              <ConnectionCard key={c.id} connection={c} />
            ))}
            <details className="create-saml">
              <summary>Add a SAML connection</summary>
              <CreateConnectionForm />
            </details>
          </>
        )}
      </QueryView>
    </section>
  );
}

/** Metadata from a file input lands in the textarea next to it. */
function MetadataFields({ error }: { error?: string | undefined }): JSX.Element {
  const [xml, setXml] = useState('');
  const load = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.currentTarget.files?.[0];
    if (file) setXml(await file.text());
  };
  return (
    <>
      <div className="field">
        <label>
          Metadata file <input type="file" accept=".xml,application/xml,text/xml" onChange={load} />
        </label>
      </div>
      <TextAreaField
        label="Identity provider metadata (XML)"
        name="metadataXml"
        rows={4}
        value={xml}
        onChange={(e) => setXml(e.currentTarget.value)}
        hint="Paste the IdP's metadata XML, or choose the file above."
        error={error}
      />
      <TextField
        label="…or its metadata URL"
        name="metadataUrl"
        type="url"
        inputMode="url"
        autoComplete="off"
        hint="https; fetched once now, without following redirects."
      />
    </>
  );
}

function metadataOf(raw: Record<string, string>): { metadataXml?: string; metadataUrl?: string } {
  const xml = (raw['metadataXml'] ?? '').trim();
  const url = (raw['metadataUrl'] ?? '').trim();
  return { ...(xml ? { metadataXml: xml } : {}), ...(url ? { metadataUrl: url } : {}) };
}

function CreateConnectionForm(): JSX.Element {
  const form = useForm(['name', 'metadataXml', 'metadataUrl']);
  const [round, setRound] = useState(0); // a new round empties the metadata fields
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const raw = formValues(target);
    const name = (raw['name'] ?? '').trim();
    if (!name) return form.fail({ name: 'Name the connection, e.g. Okta.' });
    const created = await form.run(
      { name, ...metadataOf(raw) },
      (data: Inputs['tenant']['saml']['create']) => api.tenant.saml.create.mutate(data),
    );
    if (!created) return;
    target.reset();
    setRound((n) => n + 1);
    await reload();
  };
  return (
    <form onSubmit={submit} noValidate className="grid-form" aria-label="Add a SAML connection">
      <FormAlert message={form.formError} />
      <TextField
        label="Name"
        name="name"
        maxLength={100}
        required
        hint="Shown on the sign-in button."
        error={form.errors['name']}
      />
      <MetadataFields
        key={round}
        error={form.errors['metadataXml'] ?? form.errors['metadataUrl']}
      />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Adding…">
          Add connection
        </SubmitButton>
      </div>
    </form>
  );
}

function ConnectionCard({ connection: c }: { connection: Connection }): JSX.Element {
  const action = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const run = async (key: string, input: Omit<UpdateInput, 'id'>, done: string): Promise<void> => {
    setNotice(null);
    if (await action.act(key, () => api.tenant.saml.update.mutate({ id: c.id, ...input }))) {
      await reload();
      setNotice(done);
    }
  };
  const remove = async (): Promise<void> => {
    if (
      !window.confirm(`Delete ${c.name}? People linked through it can no longer sign in with it.`)
    )
      return;
    if (await action.act(`delete:${c.id}`, () => api.tenant.saml.delete.mutate({ id: c.id })))
      await reload();
  };
  const headingId = `saml-${c.id}`;
  return (
    <article className="saml-connection" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {c.name} <span className="badge">{c.enabled ? 'Enabled' : 'Disabled'}</span>
      </h3>
      {notice ? <Notice>{notice}</Notice> : null}
      <FormAlert message={action.error} />
      <dl className="saml-values">
        <dt>SP entity ID and metadata URL</dt>
        <dd>
          <code>{c.spEntityId}</code>
        </dd>
        <dt>ACS URL (HTTP-POST)</dt>
        <dd>
          <code>{c.acsUrl}</code>
        </dd>
        <dt>Identity provider</dt>
        <dd>{c.idpEntityID ? <code>{c.idpEntityID}</code> : 'No metadata imported yet.'}</dd>
      </dl>
      <h4>Signing certificates</h4>
      <ul aria-label={`Signing certificates of ${c.name}`}>
        {c.certificates.map((cert) => (
          <li key={cert.fingerprint}>
            {cert.subject}, expires {formatDate(cert.notAfter, false)}{' '}
            <code className="fingerprint">{cert.fingerprint}</code>
          </li>
        ))}
      </ul>
      <div className="actions">
        <button
          type="button"
          disabled={action.pending !== null}
          onClick={() =>
            void run(
              `enable:${c.id}`,
              { enabled: !c.enabled },
              `${c.name} is ${c.enabled ? 'disabled' : 'enabled'}.`,
            )
          }
        >
          {c.enabled ? 'Disable' : 'Enable'}
        </button>
        {c.enabled ? (
          <a className="button secondary" href={c.startUrl}>
            Test sign-in
          </a>
        ) : null}
        <button
          type="button"
          className="danger"
          disabled={action.pending !== null}
          onClick={() => void remove()}
        >
          Delete
        </button>
      </div>
      <details>
        <summary>Rotate the signing certificate</summary>
        <RotateForm connection={c} onDone={setNotice} />
      </details>
      <details>
        <summary>Update the metadata</summary>
        <MetadataForm connection={c} onDone={setNotice} />
      </details>
      <details>
        <summary>Sign-in rules</summary>
        <RulesForm connection={c} onDone={setNotice} />
      </details>
    </article>
  );
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Rotation: the new certificate is added beside the current one (both verify), and once the IdP
 * signs with the new key the old one is removed. The view holds no certificate bodies, so the
 * form takes the full set to keep, in PEM.
 */
function RotateForm({
  connection: c,
  onDone,
}: {
  connection: Connection;
  onDone: (m: string) => void;
}): JSX.Element {
  const form = useForm(['certificates']);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const pems = (formValues(event.currentTarget)['certificates'] ?? '').match(PEM) ?? [];
    if (pems.length < 1 || pems.length > 2)
      return form.fail({
        certificates: 'Paste one or two PEM certificates (the current one and the next one).',
      });
    const saved = await form.run({ id: c.id, certificates: pems }, (data: UpdateInput) =>
      api.tenant.saml.update.mutate(data),
    );
    if (!saved) return;
    await reload();
    onDone(
      `${c.name} now trusts ${saved.certificates.length} certificate${saved.certificates.length > 1 ? 's' : ''}.`,
    );
  };
  return (
    <form
      onSubmit={submit}
      noValidate
      className="grid-form"
      aria-label={`Rotate the certificate of ${c.name}`}
    >
      <FormAlert message={form.formError} />
      <TextAreaField
        label="Certificates to trust (PEM)"
        name="certificates"
        rows={6}
        hint="While rotating, paste the current and the next certificate: responses signed with either are accepted. After the IdP switched, save the next one alone."
        error={form.errors['certificates']}
      />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Saving…">
          Save certificates
        </SubmitButton>
      </div>
    </form>
  );
}

function MetadataForm({
  connection: c,
  onDone,
}: {
  connection: Connection;
  onDone: (m: string) => void;
}): JSX.Element {
  const form = useForm(['metadataXml', 'metadataUrl']);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const meta = metadataOf(formValues(event.currentTarget));
    if (!meta.metadataXml && !meta.metadataUrl)
      return form.fail({ metadataXml: 'Paste the metadata XML, choose its file or give its URL.' });
    const saved = await form.run({ id: c.id, ...meta }, (data: UpdateInput) =>
      api.tenant.saml.update.mutate(data),
    );
    if (!saved) return;
    await reload();
    onDone(`Metadata of ${c.name} imported.`);
  };
  return (
    <form
      onSubmit={submit}
      noValidate
      className="grid-form"
      aria-label={`Update the metadata of ${c.name}`}
    >
      <FormAlert message={form.formError} />
      <MetadataFields error={form.errors['metadataXml'] ?? form.errors['metadataUrl']} />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Importing…">
          Import metadata
        </SubmitButton>
      </div>
    </form>
  );
}

const ROLES = ['admin', 'compliance', 'member'] as const;

function parseRules(text: string): { group: string; role: (typeof ROLES)[number] }[] | null {
  const rules = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const at = line.lastIndexOf('=');
    const group = line.slice(0, at).trim();
    const role = line.slice(at + 1).trim() as (typeof ROLES)[number];
    if (at < 1 || !group || !ROLES.includes(role)) return null;
    rules.push({ group, role });
  }
  return rules;
}

function RulesForm({
  connection: c,
  onDone,
}: {
  connection: Connection;
  onDone: (m: string) => void;
}): JSX.Element {
  const form = useForm([
    'jitProvisioning',
    'emailsVerified',
    'allowIdpInitiated',
    'trustIdpMfa',
    'emailAttribute',
    'nameAttribute',
    'groupsAttribute',
    'groupRoles',
  ]);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const raw = formValues(event.currentTarget);
    const rules = parseRules(raw['groupRoles'] ?? '');
    if (!rules)
      return form.fail({ groupRoles: 'One rule a line: group = admin, compliance or member.' });
    const attr = (name: string) => (raw[name] ?? '').trim() || null;
    // Only what changed is sent: admins may change the first two and nothing else.
    const next: Omit<UpdateInput, 'id'> = {
      jitProvisioning: raw['jitProvisioning'] === 'on',
      emailsVerified: raw['emailsVerified'] === 'on',
      allowIdpInitiated: raw['allowIdpInitiated'] === 'on',
      trustIdpMfa: raw['trustIdpMfa'] === 'on',
      emailAttribute: attr('emailAttribute'),
      nameAttribute: attr('nameAttribute'),
      groupsAttribute: attr('groupsAttribute'),
      groupRoles: rules,
    };
    const changed = Object.fromEntries(
      Object.entries(next).filter(
        ([k, v]) => JSON.stringify(v) !== JSON.stringify(c[k as keyof Connection]),
      ),
    );
    if (raw['name'] && raw['name'].trim() !== c.name) changed['name'] = raw['name'].trim();
    const saved = await form.run({ id: c.id, ...changed }, (data: UpdateInput) =>
      api.tenant.saml.update.mutate(data),
    );
    if (!saved) return;
    await reload();
    onDone(`Sign-in rules of ${c.name} saved.`);
  };
  const check = (
    name: 'jitProvisioning' | 'emailsVerified' | 'trustIdpMfa' | 'allowIdpInitiated',
    label: string,
    hint: string,
  ): JSX.Element => (
    <div className="field checkbox">
      <label>
        <input type="checkbox" name={name} defaultChecked={Boolean(c[name])} /> {label}
      </label>
      <p className="hint">{hint}</p>
    </div>
  );
  return (
    <form
      onSubmit={submit}
      noValidate
      className="grid-form"
      aria-label={`Sign-in rules of ${c.name}`}
    >
      <FormAlert message={form.formError} />
      <TextField label="Name" name="name" defaultValue={c.name} maxLength={100} />
      {check(
        'jitProvisioning',
        'Create accounts on first sign-in',
        'New people become members (or the role of a group rule below).',
      )}
      {check(
        'emailsVerified',
        'The IdP vouches for e-mail addresses',
        'Needed to link existing accounts by their verified address. Only for a directory your IT manages.',
      )}
      {check(
        'trustIdpMfa',
        "Trust the IdP's MFA",
        'An authentication context below counts as the second factor.',
      )}
      {check(
        'allowIdpInitiated',
        'Allow IdP-initiated sign-in',
        'Off by default: responses must answer a sign-in started here.',
      )}
      <TextField
        label="E-mail attribute"
        name="emailAttribute"
        defaultValue={c.emailAttribute ?? ''}
        hint="Empty: email, mail or the emailaddress claim."
      />
      <TextField
        label="Name attribute"
        name="nameAttribute"
        defaultValue={c.nameAttribute ?? ''}
        hint="Empty: displayName, name or the displayname claim."
      />
      <TextField
        label="Groups attribute"
        name="groupsAttribute"
        defaultValue={c.groupsAttribute ?? ''}
        hint="Empty: groups, memberOf or the groups claim."
      />
      <TextAreaField
        label="Group-to-role rules"
        name="groupRoles"
        rows={3}
        defaultValue={c.groupRoles.map((r) => `${r.group} = ${r.role}`).join('\n')}
        hint="One a line, e.g. tessera-admins = admin. The first match sets a new account's role."
        error={form.errors['groupRoles']}
      />
      <div className="actions">
        <SubmitButton pending={form.pending} pendingText="Saving…">
          Save rules
        </SubmitButton>
      </div>
    </form>
  );
}
