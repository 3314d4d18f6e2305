export { DecryptionError, generateKeyringSpec, KeyringError, parseKeyring } from './keyring.js';
export type { EncryptionContext, Keyring } from './keyring.js';
export { hmacSha256, randomToken, sha256, sha256Hex, timingSafeEqualHex } from './tokens.js';
