/**
 * My data (privacy.*): request an export (JSON, CSV or PDF) or deletion, follow the requests,
 * download a finished export through a short-lived link.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent, type JSX } from 'react';
import { FormAlert, Notice, SelectField, SubmitButton } from '../../components/fields';
import { Empty, QueryView, Time } from '../../components/states';
import { formValues, useAction, useForm } from '../../lib/forms';
import { api, queryClient, type Inputs, type Outputs } from '../../lib/trpc';
import { StatusBadge } from './status-badge';

type ExportFormat = Inputs['privacy']['requestExport']['format'];

const KEY = ['privacy.myRequests'];
const FORMATS = [
  { value: 'json', label: 'JSON (machine-readable)' },
  { value: 'csv', label: 'CSV (a zip of spreadsheets)' },
  { value: 'pdf', label: 'PDF (a readable report)' },
];

export function PrivacyPage(): JSX.Element {
  const requests = useQuery({
    queryKey: KEY,
    queryFn: () => api.privacy.myRequests.query(),
    // Exports run in the background: poll while one is on its way.
    refetchInterval: (q) =>
      q.state.data?.some((r) => r.status === 'pending' || r.status === 'processing') ? 3000 : false,
  });
  const reload = (): Promise<void> => queryClient.invalidateQueries({ queryKey: KEY });
  return (
    <>
      <h1>My data</h1>
      <QueryView query={requests} feature="Privacy requests">
        {(list) => (
          <>
            <section className="card" aria-labelledby="ask-heading">
              <h2 id="ask-heading">Ask for your data</h2>
              <ExportForm onDone={reload} />
              <DeletionForm onDone={reload} />
            </section>
            <section className="card" aria-labelledby="requests-heading">
              <h2 id="requests-heading">My requests</h2>
              <RequestTable list={list} />
            </section>
          </>
        )}
      </QueryView>
    </>
  );
}

function ExportForm({ onDone }: { onDone: () => Promise<void> }): JSX.Element {
  const form = useForm(['format']);
  const [sent, setSent] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const format = (formValues(event.currentTarget)['format'] ?? 'json') as ExportFormat;
    const result = await form.run({ format }, (input: { format: ExportFormat }) =>
      api.privacy.requestExport.mutate(input),
    );
    if (!result) return;
    setSent(true);
    await onDone();
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-label="Request an export" noValidate>
      <FormAlert message={form.formError} />
      <SelectField
        label="Export format"
        name="format"
        options={FORMATS}
        defaultValue="json"
        error={form.errors['format']}
      />
      <SubmitButton pending={form.pending} pendingText="Requesting…">
        Request export
      </SubmitButton>
      {sent ? <Notice>Export requested. We e-mail you when it is ready.</Notice> : null}
    </form>
  );
}

function DeletionForm({ onDone }: { onDone: () => Promise<void> }): JSX.Element {
  const form = useForm([]);
  const [sent, setSent] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (
      !window.confirm('Delete your account and personal data? This cannot be undone once it runs.')
    )
      return;
    const result = await form.run({}, () => api.privacy.requestDeletion.mutate());
    if (!result) return;
    setSent(true);
    await onDone();
  };
  return (
    <form onSubmit={submit} aria-label="Request deletion" noValidate>
      <p>
        Deleting erases your profile, sessions and factors, and removes your name and addresses from
        the audit log.
      </p>
      <FormAlert message={form.formError} />
      <button type="submit" className="danger" disabled={form.pending}>
        {form.pending ? 'Requesting…' : 'Request deletion of my data'}
      </button>
      {sent ? <Notice>Deletion requested.</Notice> : null}
    </form>
  );
}

function RequestTable({ list }: { list: Outputs['privacy']['myRequests'] }): JSX.Element {
  const action = useAction();
  const download = async (id: string): Promise<void> => {
    await action.act(id, async () => {
      const link = await downloadLink(id);
      window.location.assign(link.url);
    });
  };
  if (list.length === 0) return <Empty>You have not asked for anything yet.</Empty>;
  return (
    <>
      <FormAlert message={action.error} />
      <table>
        <caption className="visually-hidden">Your privacy requests</caption>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Status</th>
            <th scope="col">Asked</th>
            <th scope="col">Due by</th>
            <th scope="col">Done</th>
            <th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr key={r.id}>
              <td>
                {r.type === 'export' ? `Export (${r.format?.toUpperCase() ?? 'JSON'})` : 'Deletion'}
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>
                <Time value={r.requestedAt} />
              </td>
              <td>
                <Time value={r.dueAt} withTime={false} />
              </td>
              <td>
                <Time value={r.completedAt} />
              </td>
              <td>
                {r.type === 'export' && r.status === 'completed' ? (
                  <button
                    type="button"
                    className="small"
                    disabled={action.pending === r.id}
                    onClick={() => download(r.id)}
                  >
                    Download<span className="visually-hidden"> export {r.format ?? ''}</span>
                  </button>
                ) : (
                  '—'
                )}
                {r.expiresAt && r.status === 'completed' ? (
                  <span className="hint">
                    {' '}
                    until <Time value={r.expiresAt} />
                  </span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** `privacy.exportDownload` is a query in the contract; the link it returns lives a few minutes. */
function downloadLink(requestId: string): Promise<Outputs['privacy']['exportDownload']> {
  return api.privacy.exportDownload.query({ requestId });
}
