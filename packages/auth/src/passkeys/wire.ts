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
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string | undefined };
}

export function toLibraryRegistration(input: RegistrationResponseInput): RegistrationResponseJSON {
  return JSON.parse(JSON.stringify(input)) as RegistrationResponseJSON;
}

export function toLibraryAuthentication(input: AuthenticationResponseInput): AuthenticationResponseJSON {
  return JSON.parse(JSON.stringify(input)) as AuthenticationResponseJSON;
}
