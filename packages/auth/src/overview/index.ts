export { memberFactorCounts } from './members.js';
export type { MemberFactorCounts, RoleFactorCounts } from './members.js';
export { signInActivity, OVERVIEW_DAYS, SIGN_IN_ACTIONS } from './sign-in-activity.js';
export type { SignInActivity, SignInDay } from './sign-in-activity.js';
export { apiKeyUsage, MAX_OVERVIEW_KEYS } from './api-key-usage.js';
export type { ApiKeyUsage } from './api-key-usage.js';
export { privacyDeadlines, PRIVACY_STATUSES, DUE_SOON_DAYS } from './privacy-deadlines.js';
export type {
  PrivacyStatus,
  PrivacyStatusCount,
  UpcomingPrivacyRequest,
} from './privacy-deadlines.js';
export { auditAnchoring } from './audit-anchoring.js';
export type { AuditAnchoring, AuditAnchorStatus } from './audit-anchoring.js';
