/**
 * Security overview (owners, admins, compliance): second factors, sign-in activity, API keys,
 * privacy deadlines and the audit chain, each from its own tenant-scoped procedure so one slow
 * figure never holds up the others. Charts by recharts; every chart has a table view.
 */
import { useQuery } from '@tanstack/react-query';
import type { JSX } from 'react';
import { QueryView } from '../../components/states';
import { api } from '../../lib/trpc';
import { ApiKeysCard } from './api-keys-card';
import { AuditChainCard } from './audit-chain-card';
import { MembersCard } from './members-card';
import { PrivacyCard } from './privacy-card';
import { SignInsCard } from './sign-ins-card';

export function SecurityOverviewPage(): JSX.Element {
  const members = useQuery({
    queryKey: ['overview.members'],
    queryFn: () => api.overview.members.query(),
  });
  const signIns = useQuery({
    queryKey: ['overview.signIns'],
    queryFn: () => api.overview.signIns.query(),
  });
  const keys = useQuery({
    queryKey: ['overview.apiKeys'],
    queryFn: () => api.overview.apiKeys.query(),
  });
  const privacy = useQuery({
    queryKey: ['overview.privacyRequests'],
    queryFn: () => api.overview.privacyRequests.query(),
  });
  const chain = useQuery({
    queryKey: ['overview.auditChain'],
    queryFn: () => api.overview.auditChain.query(),
  });
  return (
    <>
      <h1>Security overview</h1>
      <div className="overview-grid">
        <QueryView query={members} feature="Second factors">
          {(data) => <MembersCard data={data} />}
        </QueryView>
        <QueryView query={chain} feature="Audit chain">
          {(data) => <AuditChainCard data={data} />}
        </QueryView>
      </div>
      <QueryView query={signIns} feature="Sign-in activity">
        {(data) => <SignInsCard data={data} />}
      </QueryView>
      <div className="overview-grid">
        <QueryView query={keys} feature="API keys">
          {(data) => <ApiKeysCard data={data} />}
        </QueryView>
        <QueryView query={privacy} feature="Privacy requests">
          {(data) => <PrivacyCard data={data} />}
        </QueryView>
      </div>
    </>
  );
}
