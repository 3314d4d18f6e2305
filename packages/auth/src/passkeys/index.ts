export * from './assertion.js';
export * from './challenges.js';
export * from './manage-passkeys.js';
export * from './passkey-view.js';
export * from './refusals.js';
export * from './registration.js';
export * from './relying-party.js';
export * from './sign-in-with-passkey.js';
export * from './step-up.js';
export * from './wire.js';
// The shapes a passkey sign-in returns, which live with what the flows share.
export type { SignedIn } from '../shared/complete-sign-in.js';
export type { UserView } from '../shared/user-view.js';
