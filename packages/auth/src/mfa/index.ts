// Second factors (docs/mfa-factors.md): TOTP, backup codes, SMS, e-mailed codes, the sign-in
// challenge and remembered devices. Passkeys have their own entry, @tessera/auth/passkeys.
export * from './backup-codes.js';
export * from './challenge.js';
export * from './challenge-token.js';
export * from './enrollment.js';
export * from './totp.js';
export * from './verify-second-factor.js';
export * from './oob-codes.js';
export * from './oob-codes-challenge.js';
export * from './oob-codes-sms.js';
export * from './email-codes.js';
export * from './remembered-devices.js';
// Issuing a device token is shared with the sign-in flows; the remembered-device API stays here.
export { rememberDevice, type RememberedDeviceToken } from '../shared/remember-device.js';
export * from './remembered-devices-sign-in.js';
export * from './sms-provider.js';
export * from './sms-provider-twilio.js';
