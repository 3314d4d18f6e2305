export * from './backup-codes.js';
export * from './challenge.js';
export * from './enrollment.js';
export * from './totp.js';
export * from './verify-second-factor.js';
export * from '../passkeys/index.js';
export * from '../maintenance/rotate-secrets.js';
