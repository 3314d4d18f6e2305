/**
 * An actor or target as people read it: the e-mail (and display name) of a user, the name (and
 * prefix) of an API key, where the server returned a name for the id. Without one the id stays as
 * it is: a pseudonym once its person was erased, or a record the viewer may not see by name.
 */
import type { JSX } from 'react';
import type { Outputs } from '../../lib/trpc';

export type Names = Outputs['audit']['list']['names'];

export function Party({
  type,
  id,
  names,
}: {
  type: string | null;
  id: string | null;
  names: Names;
}): JSX.Element {
  if (type === 'system') return <span>System</span>;
  if (id === null) return <span>{type ?? '—'}</span>;
  const name = names[id];
  if (!name)
    return (
      <span>
        {type ?? ''}{' '}
        <code className="hint" title="No name to show: an id or a pseudonym">
          {id}
        </code>
      </span>
    );
  return (
    <span title={id}>
      {name.kind === 'api_key' ? 'Key ' : ''}
      {name.label}
      {name.detail ? <span className="hint"> {name.detail}</span> : null}
    </span>
  );
}
