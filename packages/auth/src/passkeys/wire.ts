/**
 * The browser's WebAuthn JSON as it arrives after the contract's zod parsing, where an absent
 * optional field may read as `undefined`. `toLibrary*` drops those keys (a JSON round trip) so the
 * value is exactly the shape @simplewebauthn/server documents; its checks do the real work.
 */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

type Transport = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';

interface CredentialCommon {
  id: string;
  rawId: string;
  type: 'public-key';
  authenticatorAttachment?: 'platform' | 'cross-platform' | undefined;
  clientExtensionResults: { credProps?: { rk?: boolean | undefined } | undefined };
}

export interface RegistrationResponseInput extends CredentialCommon {
  response: {
    clientDataJSON: string;
    attestationObject: string;
    authenticatorData?: string | undefined;
    transports?: Transport[] | undefined;
    publicKeyAlgorithm?: number | undefined;
    publicKey?: string | undefined;
  };
}

export interface AuthenticationResponseInput extends CredentialCommon {
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string | undefined;
  };
}

export function toLibraryRegistration(input: RegistrationResponseInput): RegistrationResponseJSON {
  return JSON.parse(JSON.stringify(input)) as RegistrationResponseJSON;
}

export function toLibraryAuthentication(
  input: AuthenticationResponseInput,
): AuthenticationResponseJSON {
  return JSON.parse(JSON.stringify(input)) as AuthenticationResponseJSON;
}

interface CredentialDescriptor {
  id: string;
  type: string;
  transports?: string[];
}

/**
 * The options handed to the browser (WebAuthn Level 3 JSON), declared here so the contract's
 * types do not reach into @simplewebauthn/server (the console cannot resolve it).
 */
export interface PasskeyCreationOptionsJSON {
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { alg: number; type: string }[];
  timeout?: number;
  excludeCredentials?: CredentialDescriptor[];
  authenticatorSelection?: {
    authenticatorAttachment?: string;
    residentKey?: string;
    requireResidentKey?: boolean;
    userVerification?: string;
  };
  hints?: string[];
  attestation?: string;
  attestationFormats?: string[];
  extensions?: object;
}

export interface PasskeyRequestOptionsJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: CredentialDescriptor[];
  userVerification?: string;
  hints?: string[];
  extensions?: object;
}
