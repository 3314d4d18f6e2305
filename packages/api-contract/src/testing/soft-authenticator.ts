/**
 * A software WebAuthn authenticator for tests (no browser): an ES256 (P-256) key derived from a
 * seed, 'none' attestation with CBOR built here, authenticator data laid out as WebAuthn §6.1
 * says, and assertions signed over authenticatorData || SHA-256(clientDataJSON) (§6.3.3). Its
 * output goes through @simplewebauthn/server's real verification; overrides let tests forge the
 * parts an attacker controls (origin, rpId, counter, flags, user handle).
 */
import { createECDH, createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(length, 1);
  return out;
}

/** Minimal CBOR (RFC 8949) encoder: what attestation objects and COSE keys need. */
export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(encodeCbor)]);
  const entries: [Cbor, Cbor][] =
    value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([
    head(5, entries.length),
    ...entries.flatMap(([k, v]) => [encodeCbor(k), encodeCbor(v)]),
  ]);
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface Overrides {
  origin?: string;
  rpId?: string;
  type?: string;
  /** Signature counter to report (default: the next one). */
  counter?: number;
  userVerified?: boolean;
  backupEligible?: boolean;
  backedUp?: boolean;
  /** base64url user handle to report (default: the one registered). */
  userHandle?: string;
  challenge?: string;
}

export interface SoftAuthenticatorOptions {
  seed: string;
  origin: string;
  rpId: string;
  userVerified?: boolean;
  backupEligible?: boolean;
  backedUp?: boolean;
  /** 0 models a synced passkey that never counts. */
  counterStep?: number;
}

interface SoftCredential {
  id: string;
  rawId: string;
  type: 'public-key';
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'platform';
}
export interface SoftRegistration extends SoftCredential {
  response: { clientDataJSON: string; attestationObject: string; transports: 'internal'[] };
}
export interface SoftAssertion extends SoftCredential {
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
}

export class SoftAuthenticator {
  readonly credentialId: Buffer;
  counter = 0;
  userHandle: string | undefined;
  private readonly key: KeyObject;
  private readonly x: Buffer;
  private readonly y: Buffer;

  constructor(readonly options: SoftAuthenticatorOptions) {
    const d = sha256(`soft-authenticator:${options.seed}`);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey(); // 0x04 || x || y
    this.x = point.subarray(1, 33);
    this.y = point.subarray(33, 65);
    this.key = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(this.x), y: b64url(this.y) },
      format: 'jwk',
    });
    this.credentialId = sha256(`credential:${options.seed}`);
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private authData(o: Overrides, counter: number, attested: Buffer | null): Buffer {
    const uv = o.userVerified ?? this.options.userVerified ?? true;
    const be = o.backupEligible ?? this.options.backupEligible ?? false;
    const bs = o.backedUp ?? this.options.backedUp ?? false;
    const flags =
      FLAG.UP |
      (uv ? FLAG.UV : 0) |
      (be ? FLAG.BE : 0) |
      (bs ? FLAG.BS : 0) |
      (attested ? FLAG.AT : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([
      sha256(o.rpId ?? this.options.rpId),
      Buffer.from([flags]),
      count,
      ...(attested ? [attested] : []),
    ]);
  }

  private clientData(type: string, challenge: string, o: Overrides): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: o.type ?? type,
        challenge: o.challenge ?? challenge,
        origin: o.origin ?? this.options.origin,
        crossOrigin: false,
      }),
    );
  }

  /** navigator.credentials.create() as @simplewebauthn/browser's startRegistration returns it. */
  register(
    options: { challenge: string; user: { id: string } },
    o: Overrides = {},
  ): SoftRegistration {
    this.userHandle = options.user.id;
    const cose = encodeCbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, this.x],
        [-3, this.y],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, cose]); // AAGUID zero: 'none'
    const authData = this.authData(o, this.counter, attested);
    const attestationObject = encodeCbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge, o)),
        attestationObject: b64url(attestationObject),
        transports: ['internal' as const],
      },
    };
  }

  /** navigator.credentials.get() as startAuthentication returns it. */
  authenticate(options: { challenge: string }, o: Overrides = {}): SoftAssertion {
    const counter = o.counter ?? this.counter + (this.options.counterStep ?? 1);
    if (o.counter === undefined) this.counter = counter;
    const authData = this.authData(o, counter, null);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, o);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.key); // DER, as authenticators send
    const userHandle = o.userHandle ?? this.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle ? { userHandle } : {}),
      },
    };
  }
}
