/**
 * Shown on the sign-in page when the server answers `sso_required`: the address's domain is
 * verified by the organisation, which requires single sign-on for it (docs/domains.md). Links
 * to the organisation's SSO start route (docs/sso.md).
 */
import type { JSX } from 'react';

export function SsoRequiredNotice({ tenantSlug }: { tenantSlug: string }): JSX.Element {
  return (
    <div role="alert" className="alert info sso-required">
      <p>
        Your organisation requires single sign-on for this e-mail address, so its password cannot be
        used here.
      </p>
      <p>
        <a className="button" href={`/auth/sso/${encodeURIComponent(tenantSlug)}/start`}>
          Continue with single sign-on
        </a>
      </p>
    </div>
  );
}
