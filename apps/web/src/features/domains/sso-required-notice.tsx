/**
 * Shown on the sign-in page when the server answers `sso_required`: the address's domain is
 * verified by the organisation, which requires single sign-on for it (docs/domains.md). Links
 * to the SSO start route `domains.route` answered for the address (the OIDC connection or a SAML
 * connection, docs/sso.md); without that answer, to the organisation's OIDC start route.
 */
import type { JSX } from 'react';

export function SsoRequiredNotice({
  tenantSlug,
  startUrl,
}: {
  tenantSlug: string;
  startUrl?: string | null | undefined;
}): JSX.Element {
  return (
    <div role="alert" className="alert info sso-required">
      <p>
        Your organisation requires single sign-on for this e-mail address, so its password cannot be
        used here.
      </p>
      <p>
        <a
          className="button"
          href={startUrl ?? `/auth/sso/${encodeURIComponent(tenantSlug)}/start`}
        >
          Continue with single sign-on
        </a>
      </p>
    </div>
  );
}
