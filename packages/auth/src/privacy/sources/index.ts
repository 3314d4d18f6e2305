import { auditSource } from './audit-source.js';
import { identitySources } from './identity-sources.js';
import {
  apiKeysSource,
  emailOutboxSource,
  linkedIdentitiesSource,
  mfaSource,
} from './module-sources.js';
import { passkeysSource } from './passkeys-source.js';
import { otpSources } from './otp-sources.js';
import type { PersonalDataSource } from './personal-data-source.js';
import { legalHoldsSource, privacyRequestsSource } from './privacy-sources.js';
import { privacyWebhooksSource } from './webhook-source.js';
import { scimSource } from './scim-source.js';
import { oidcSource } from './oidc-source.js';

export * from './personal-data-source.js';

/**
 * Every source, in erasure order: dependants before the user row (which eraseUserData deletes
 * last), the audit log after the rows whose changes it records. A module adding a table that
 * references users adds its source here (the registry test names the table until it does).
 */
export const personalDataSources: readonly PersonalDataSource[] = Object.freeze([
  ...identitySources,
  mfaSource,
  ...otpSources,
  passkeysSource,
  apiKeysSource,
  linkedIdentitiesSource,
  emailOutboxSource,
  privacyRequestsSource,
  legalHoldsSource,
  privacyWebhooksSource,
  scimSource,
  oidcSource,
  auditSource,
]);
