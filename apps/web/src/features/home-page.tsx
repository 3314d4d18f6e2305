import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { Time } from '../components/states';
import { Link } from '../lib/router';
import { hasRole, type Me } from '../lib/session';
import { api } from '../lib/trpc';

export function HomePage({ me }: { me: Me }): JSX.Element {
  const mfa = useQuery({ queryKey: ['mfa.status'], queryFn: () => api.mfa.status.query() });
  return (
    <>
      <h1>Welcome{me.user.displayName ? `, ${me.user.displayName}` : ''}</h1>
      <section className="card" aria-labelledby="account-heading">
        <h2 id="account-heading">Your account</h2>
        <dl className="facts">
          <dt>Organisation</dt>
          <dd>
            {me.tenant.name} (<code>{me.tenant.slug}</code>)
          </dd>
          <dt>Email</dt>
          <dd>{me.user.email}</dd>
          <dt>Role</dt>
          <dd>{me.user.role}</dd>
          <dt>Two-factor authentication</dt>
          <dd>
            {mfa.data ? (mfa.data.enabled ? 'On' : 'Off') : me.user.mfaEnabled ? 'On' : 'Off'} ·{' '}
            <Link to="/security">Manage</Link>
          </dd>
          <dt>This session ends</dt>
          <dd>
            <Time value={me.session.expiresAt} /> (after inactivity)
          </dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="todo-heading">
        <h2 id="todo-heading">What you can do</h2>
        <ul>
          <li>
            <Link to="/security">Security</Link>: two-factor authentication, backup codes, sessions,
            password.
          </li>
          <li>
            <Link to="/privacy">My data</Link>: export or delete your personal data.
          </li>
          {hasRole(me, ['owner', 'admin']) ? (
            <li>
              <Link to="/admin">Administration</Link>: members, API keys, security policy.
            </li>
          ) : null}
          {hasRole(me, ['owner', 'admin', 'compliance']) ? (
            <li>
              <Link to="/audit">Audit log</Link>: who did what, and proof the log is intact.
            </li>
          ) : null}
          {hasRole(me, ['owner', 'compliance']) ? (
            <li>
              <Link to="/compliance">Compliance</Link>: data-subject requests and legal holds.
            </li>
          ) : null}
        </ul>
      </section>
    </>
  );
}
