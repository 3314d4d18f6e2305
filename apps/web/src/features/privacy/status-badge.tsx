import type { JSX } from 'react';

const TONE: Record<string, string> = {
  completed: 'ok',
  failed: 'warn',
  rejected: 'warn',
  blocked: 'warn',
};
const LABEL: Record<string, string> = {
  pending: 'Received',
  processing: 'In progress',
  completed: 'Completed',
  failed: 'Failed',
  rejected: 'Rejected',
  blocked: 'On legal hold',
};

export function StatusBadge({ status }: { status: string }): JSX.Element {
  return <span className={`badge ${TONE[status] ?? ''}`}>{LABEL[status] ?? status}</span>;
}
