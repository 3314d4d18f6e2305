/**
 * Verified domains (domains.*; docs/domains.md): the tenant's e-mail domains with their state, the
 * TXT record to publish, Verify (looked up in DNS now), the two settings (require SSO, auto-join)
 * and Remove. Every change may ask for step-up; useForm and useAction handle that.
 */
import { addDomainInput } from '@tessera/api-contract/inputs';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, RowButton, SubmitButton, TextField } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Outputs } from '../../lib/trpc';

type Domain = Outputs['domains']['list'][number];
type Outcome = Outputs['domains']['verify']['outcome'];

const LIST_KEY = ['domains.list'];
const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: LIST_KEY });

const OUTCOME_TEXT: Record<Outcome, string> = {
  verified: 'is verified.',
  record_missing:
    'could not be verified: the TXT record was not found. DNS changes can take a while to appear; try again later.',
  suspended: 'is suspended: its TXT record is gone. Publish it again, then verify.',
  dns_unavailable: 'could not be checked: DNS did not answer. Nothing changed; try again later.',
  held_elsewhere:
    'is verified by another organisation. It must remove it, or its record must be gone, first.',
};

export function DomainsPage(): JSX.Element {
  const domains = useQuery({ queryKey: LIST_KEY, queryFn: () => api.domains.list.query() });
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      <h1>Domains</h1>
      <section className="card" aria-labelledby="domains-heading">
        <h2 id="domains-heading">Verified domains</h2>
        <p>
          Prove that your organisation controls an e-mail domain by publishing a DNS TXT record. A
          verified domain can require single sign-on for its addresses and let people with those
          addresses join when they sign in with SSO. Domains are checked again every day.
        </p>
        {notice ? <Notice>{notice}</Notice> : null}
        <QueryView query={domains} feature="Domains">
          {(list) =>
            list.length === 0 ? (
              <Empty>No domains yet.</Empty>
            ) : (
              <ul className="domain-list">
                {list.map((d) => (
                  <DomainItem key={d.id} domain={d} onNotice={setNotice} />
                ))}
              </ul>
            )
          }
        </QueryView>
        <AddDomainForm
          onAdded={(d) =>
            setNotice(`Added ${d.domain}. Publish its TXT record, then choose Verify.`)
          }
        />
      </section>
    </>
  );
}

function AddDomainForm({ onAdded }: { onAdded: (d: Domain) => void }): JSX.Element {
  const form = useForm(['domain']);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const target = event.currentTarget;
    const added = await form.run(
      formValues(target),
      (input) => api.domains.add.mutate(input),
      addDomainInput,
    );
    if (!added) return;
    target.reset();
    onAdded(added);
    await reload();
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="add-domain-heading">
      <h3 id="add-domain-heading">Add a domain</h3>
      <FormAlert message={form.formError} />
      <TextField
        label="Domain"
        name="domain"
        required
        maxLength={253}
        placeholder="example.com"
        error={form.errors['domain']}
      />
      <SubmitButton pending={form.pending} pendingText="Adding…">
        Add domain
      </SubmitButton>
    </form>
  );
}

const STATUS_BADGE: Record<Domain['status'], JSX.Element> = {
  verified: <span className="badge ok">Verified</span>,
  pending: <span className="badge">Pending</span>,
  suspended: <span className="badge warn">Suspended</span>,
};

function DomainItem({
  domain: d,
  onNotice,
}: {
  domain: Domain;
  onNotice: (text: string) => void;
}): JSX.Element {
  const action = useAction();
  const verify = async (): Promise<void> => {
    const result: { outcome?: Outcome } = {};
    const ok = await action.act(`verify-${d.id}`, async () => {
      result.outcome = (await api.domains.verify.mutate({ id: d.id })).outcome;
    });
    if (ok && result.outcome) onNotice(`${d.domain} ${OUTCOME_TEXT[result.outcome]}`);
    await reload();
  };
  const set = async (patch: { requireSso?: boolean; autoJoin?: boolean }): Promise<void> => {
    if (await action.act(`set-${d.id}`, () => api.domains.update.mutate({ id: d.id, ...patch })))
      await reload();
  };
  const remove = async (): Promise<void> => {
    if (!window.confirm(`Remove ${d.domain}? Its settings stop applying at once.`)) return;
    if (await action.act(`remove-${d.id}`, () => api.domains.remove.mutate({ id: d.id })))
      await reload();
  };
  const busy = action.pending !== null;
  return (
    <li className="domain" aria-label={d.domain}>
      <h3>
        {d.domain} {STATUS_BADGE[d.status]}
      </h3>
      {d.status !== 'verified' ? (
        <div className="dns-record">
          <p>Publish this TXT record at your DNS provider:</p>
          <dl>
            <dt>Name</dt>
            <dd>
              <code>{d.record.name}</code>
            </dd>
            <dt>Value</dt>
            <dd>
              <code>{d.record.value}</code>
            </dd>
          </dl>
        </div>
      ) : null}
      <p className="hint">
        Last checked <Time value={d.lastCheckedAt} />
        {d.verifiedAt ? (
          <>
            {' '}
            · verified <Time value={d.verifiedAt} />
          </>
        ) : null}
        {d.suspendedAt ? (
          <>
            {' '}
            · suspended <Time value={d.suspendedAt} />
          </>
        ) : null}
      </p>
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={d.requireSso}
            disabled={busy}
            onChange={(e) => set({ requireSso: e.currentTarget.checked })}
          />{' '}
          Require single sign-on for {d.domain} addresses
        </label>
        {d.requireSso && !d.ssoEnforced ? (
          <p className="hint">
            Not in force: it applies once the domain is verified and single sign-on is enabled.
          </p>
        ) : null}
      </div>
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={d.autoJoin}
            disabled={busy}
            onChange={(e) => set({ autoJoin: e.currentTarget.checked })}
          />{' '}
          People with a verified {d.domain} address join as members when they sign in with SSO
        </label>
      </div>
      {action.error ? <FormAlert message={action.error} /> : null}
      <div className="row-actions">
        <button type="button" className="secondary small" disabled={busy} onClick={verify}>
          {action.pending === `verify-${d.id}` ? 'Checking…' : 'Verify'}
          <span className="visually-hidden"> {d.domain}</span>
        </button>
        <RowButton label="Remove" subject={d.domain} disabled={busy} onClick={remove} />
      </div>
    </li>
  );
}
