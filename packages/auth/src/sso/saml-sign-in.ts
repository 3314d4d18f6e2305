/**
 * The end of a SAML sign-in: a validated assertion (saml-sp.ts) becomes a Tessera session under
 * exactly the OIDC rules (sign-in.ts): an identity linked to (connection, NameID, IdP entity id);
 * else linking by e-mail only when the connection vouches for its addresses and the Tessera
 * address is verified; else a just-in-time user (`member`, or the role of the first matching
 * group-to-role rule) when the connection allows it; a user with a factor gets an MFA challenge
 * unless the tenant trusts the IdP's AuthnContextClassRef. Refused responses are audited.
 */
import type { Database, SamlConnectionRow } from '@tessera/db';
import type { RequestContext } from '../context/deps.js';
import type { UseCase } from '../context/use-case.js';
import { recordAuditEvent } from '../audit/index.js';
import { withTenant } from '@tessera/db';
import { samlProviderKey } from './saml-connections.js';
import { samlJitRole, samlMfaSatisfied, type SamlAssertion } from './saml-sp.js';
import { completeSsoSignIn, type SsoSignInResult } from './sign-in.js';

export async function completeSamlSignIn(
  uc: UseCase,
  row: SamlConnectionRow,
  assertion: SamlAssertion,
): Promise<SsoSignInResult> {
  const { db, deps, request, now } = uc;
  const mfa = samlMfaSatisfied(row, assertion);
  return completeSsoSignIn(
    db,
    deps,
    {
      tenantId: row.tenantId,
      connection: {
        provider: samlProviderKey(row.id),
        issuer: row.idpEntityID ?? '',
        jitProvisioning: row.jitProvisioning,
        trustProviderMfa: row.trustIdpMfa,
      },
      assertion: {
        subject: assertion.subject,
        email: assertion.email,
        emailVerified: row.emailsVerified,
        name: assertion.name,
        amr: mfa ? ['mfa'] : [],
      },
      jitRole: samlJitRole(row, assertion.groups),
    },
    request,
    now,
  );
}

/** A refused SAML response leaves a trace in the tenant's audit log (reason only, no XML). */
export async function recordSamlRefusal(
  db: Database,
  row: Pick<SamlConnectionRow, 'tenantId' | 'id'>,
  reason: string,
  request: RequestContext,
  now: Date,
): Promise<void> {
  await withTenant(db, row.tenantId, (tx) =>
    recordAuditEvent(tx, {
      actor: { type: 'user', id: null },
      action: 'auth.saml.refused',
      target: { type: 'saml_connection', id: row.id },
      ip: request.ip,
      userAgent: request.userAgent,
      occurredAt: now,
      metadata: { reason },
    }),
  );
}
