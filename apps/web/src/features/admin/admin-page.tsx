import type { JSX } from 'react';
import type { Me } from '../../lib/session';
import { ApiKeysSection } from './api-keys';
import { MembersSection } from './members';
import { PrivacyWebhooksSection } from './privacy-webhooks';
import { SamlConnectionsSection } from './saml-connections';
import { SecurityPolicySection } from './security-policy';

export function AdminPage({ me }: { me: Me }): JSX.Element {
  return (
    <>
      <h1>Administration</h1>
      <nav aria-label="Administration sections" className="subnav">
        <a href="#members-heading">Members</a> <a href="#keys-heading">API keys</a>{' '}
        <a href="#webhooks-heading">Privacy webhooks</a>{' '}
        <a href="#policy-heading">Security policy</a>{' '}
        <a href="#saml-heading">SAML single sign-on</a>
      </nav>
      <MembersSection me={me} />
      <ApiKeysSection />
      <PrivacyWebhooksSection />
      <SecurityPolicySection />
      <SamlConnectionsSection />
    </>
  );
}
