// Account flows (docs/identity.md): sign-up, sign-in, invites, users, passwords, e-mail.
export * from './invites.js';
export * from './manage-users.js';
export * from './me.js';
export * from './normalize-email.js';
export * from './passwords-flow.js';
export * from './sign-in.js';
export * from './sign-up.js';
export * from './user-tokens.js';
export * from './import-legacy.js';
export * from './address-limits.js';
export * from './email-verification.js';
export * from './email-change.js';
// The shapes the flows above return, which live with what the flows share.
export type { SignedIn } from '../shared/complete-sign-in.js';
export type { TenantView, UserView } from '../shared/user-view.js';
