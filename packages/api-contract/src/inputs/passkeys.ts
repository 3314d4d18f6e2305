import { z } from 'zod';

/**
 * WebAuthn responses as @simplewebauthn/browser returns them (JSON, base64url). Bounded and
 * shaped here; the cryptographic checks happen in @tessera/auth/passkeys. Unknown keys a
 * newer browser may add are dropped, not refused.
 */
const base64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, 'Not base64url.');
const KNOWN_TRANSPORTS = [
  'ble',
  'cable',
  'hybrid',
  'internal',
  'nfc',
  'smart-card',
  'usb',
] as const;
type Transport = (typeof KNOWN_TRANSPORTS)[number];
const isKnownTransport = (value: string): value is Transport =>
  (KNOWN_TRANSPORTS as readonly string[]).includes(value);
const transports = z
  .array(z.string().max(32))
  .max(10)
  .transform((values) => values.filter(isKnownTransport));
const clientExtensionResults = z.object({
  credProps: z.object({ rk: z.boolean().optional() }).optional(),
});
const credentialCommon = {
  id: base64url(1366).min(1),
  rawId: base64url(1366).min(1),
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: clientExtensionResults.default({}),
};

export const registrationResponse = z.object({
  ...credentialCommon,
  response: z.object({
    clientDataJSON: base64url(4096).min(1),
    attestationObject: base64url(16_384).min(1),
    authenticatorData: base64url(16_384).optional(),
    transports: transports.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(4096).optional(),
  }),
});

export const authenticationResponse = z.object({
  ...credentialCommon,
  response: z.object({
    clientDataJSON: base64url(4096).min(1),
    authenticatorData: base64url(16_384).min(1),
    signature: base64url(2048).min(1),
    userHandle: base64url(128).optional(),
  }),
});

export const passkeyName = z.string().trim().min(1, 'Give the passkey a name.').max(100);
export const passkeyId = z.string().uuid();

export const verifyPasskeyRegistrationInput = z.strictObject({
  response: registrationResponse,
  name: passkeyName,
});
export const renamePasskeyInput = z.strictObject({ id: passkeyId, name: passkeyName });
export const removePasskeyInput = z.strictObject({ id: passkeyId });
const tenantSlug = z.string().trim().min(1).max(40); // as in signInInput
/**
 * Second factor (the password step's challenge; `{}` = the SSO challenge cookie) or passwordless
 * (the organisation only: no e-mail, no account hint).
 */
export const passkeyOptionsInput = z.union([
  z.strictObject({ challengeToken: z.string().min(1).max(200) }),
  z.strictObject({ tenantSlug }),
  z.strictObject({}),
]);
/** challengeToken absent and no tenantSlug: the SSO challenge cookie is used (docs/design.md "MFA"). */
export const verifyPasskeySignInInput = z.strictObject({
  challengeToken: z.string().min(1).max(200).optional(),
  tenantSlug: tenantSlug.optional(),
  response: authenticationResponse,
});
export const passkeyStepUpInput = z.strictObject({ response: authenticationResponse });

export type VerifyPasskeyRegistrationInput = z.infer<typeof verifyPasskeyRegistrationInput>;
export type VerifyPasskeySignInInput = z.infer<typeof verifyPasskeySignInInput>;
