/** The audit chain's anchoring at a glance (overview.auditChain); the full walk is on the audit page. */
import type { JSX } from 'react';
import { Time } from '../../components/states';
import { Link } from '../../lib/router';
import type { Outputs } from '../../lib/trpc';

type Chain = Outputs['overview']['auditChain'];

const STATUS: Record<Chain['status'], [string, string]> = {
  empty: ['ok', 'No events yet'],
  anchored: ['ok', 'Anchored'],
  pending: ['ok', 'Waiting for the next checkpoint'],
  broken: ['warn', 'Checkpoint does not match'],
};

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

export function AuditChainCard({ data }: { data: Chain }): JSX.Element {
  const [tone, label] = STATUS[data.status];
  const cp = data.checkpoint;
  return (
    <section className="card" aria-labelledby="chain-status-heading">
      <h2 id="chain-status-heading">Audit chain</h2>
      <p className="status-line" role={data.status === 'broken' ? 'alert' : undefined}>
        <span className={`badge ${tone}`}>{label}</span>
      </p>
      <dl className="facts" aria-label="Audit chain status">
        <dt>Events in the chain</dt>
        <dd>{data.headSeq}</dd>
        <dt>Last checkpoint</dt>
        <dd>
          {cp ? (
            <>
              event #{cp.seq}, signed <Time value={cp.signedAt} /> ({age(cp.ageSeconds)} ago)
              {cp.signatureValid === false ? ' — signature not valid' : ''}
            </>
          ) : (
            'None yet'
          )}
        </dd>
        <dt>Checkpoint age</dt>
        <dd>{cp ? age(cp.ageSeconds) : '—'}</dd>
        <dt>Events waiting for a checkpoint</dt>
        <dd>
          {data.unanchoredEvents}
          {data.oldestUnanchoredAt ? (
            <>
              {' '}
              (oldest <Time value={data.oldestUnanchoredAt} />)
            </>
          ) : null}
        </dd>
      </dl>
      <p className="hint">
        Every event is verified hash by hash on the <Link to="/audit">audit log</Link> page.
      </p>
    </section>
  );
}
