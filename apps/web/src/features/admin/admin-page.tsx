import type { JSX } from 'react';
import type { Me, Permission } from '../../lib/session';
import { ApiKeysSection } from './api-keys';
import { MembersSection } from './members';
import { PrivacyWebhooksSection } from './privacy-webhooks';
import { SamlConnectionsSection } from './saml-connections';
import { SecurityPolicySection } from './security-policy';

export function AdminPage({ me }: { me: Me }): JSX.Element {
  const may = (permission: Permission): boolean => me.permissions.includes(permission);
  return (
    <>
      <h1>Administration</h1>
      <nav aria-label="Administration sections" className="subnav">
        <a href="#members-heading">Members</a> <a href="#keys-heading">API keys</a>{' '}
        <a href="#webhooks-heading">Privacy webhooks</a>{' '}
        <a href="#policy-heading">Security policy</a>{' '}
        <a href="#saml-heading">SAML single sign-on</a>
      </nav>
      {/* Each section for whoever holds its permission (custom roles, docs/roles.md). */}
      {may('users:read') ? <MembersSection me={me} /> : null}
      {may('api_keys:read') ? <ApiKeysSection /> : null}
      {may('privacy:read') ? <PrivacyWebhooksSection /> : null}
      {may('security_policy:write') ? <SecurityPolicySection /> : null}
      {may('saml:read') ? <SamlConnectionsSection /> : null}
    </>
  );
}
