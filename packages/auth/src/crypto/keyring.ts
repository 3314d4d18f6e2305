/**
 * Versioned AES-256-GCM keyring (docs/design.md "Secrets", rule 4).
 *
 * Guarantees: every ciphertext carries its key version (`v2.<base64url(nonce|ciphertext|tag)>`),
 * uses a fresh 12-byte random nonce and a 16-byte tag, and binds its context (purpose, tenant id,
 * row id, chunk) as associated data, so a ciphertext copied to another row, tenant, purpose or
 * chunk fails to decrypt. The first key of the ring encrypts; every key decrypts. Error messages
 * never contain key material or plaintext.
 *
 * Callers must not: call `createCipheriv('aes-256-gcm', ...)` anywhere else, reuse one context
 * for two different secrets of a row, log ciphertexts next to their context, or treat a
 * `DecryptionError` as anything but tampering or a wrong context.
 *
 * Pinned by `keyring.test.ts`.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12; // NIST SP 800-38D §8.2.2: 96-bit random IVs
const TAG_BYTES = 16;
const VERSION_PATTERN = /^v[1-9][0-9]{0,8}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const AAD_LABEL = 'tessera.keyring.aad.v1';

/** What a ciphertext belongs to; bound as GCM associated data. */
export interface EncryptionContext {
  purpose: string;
  tenantId: string;
  rowId: string;
  chunk?: number;
}

/** The ring spec or a ciphertext's key version is unusable. Never carries key material. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

/** Authentication failed: tampered data or the wrong context. Deliberately without details. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  constructor() {
    super('decryption failed');
  }
}

export interface Keyring {
  /** Version of the first key, the one that encrypts. */
  readonly currentVersion: string;
  /** All versions, first (encrypting) key first. */
  readonly versions: readonly string[];
  encrypt(plaintext: Uint8Array | string, context: EncryptionContext): string;
  decrypt(ciphertext: string, context: EncryptionContext): Buffer;
  decryptString(ciphertext: string, context: EncryptionContext): string;
  /** True when the ciphertext is not under the first key (including unknown versions). */
  needsRotation(ciphertext: string): boolean;
  /** Decrypts with whichever key the version names and encrypts again under the first key. */
  reencrypt(ciphertext: string, context: EncryptionContext): string;
}

/** Parses `v2:base64key,v1:base64key`: the first entry encrypts, all decrypt. */
export function parseKeyring(spec: string): Keyring {
  if (spec.trim() === '') throw new KeyringError('keyring is empty');
  const entries = spec.split(',').map((entry) => entry.trim());
  const keys = new Map<string, KeyObject>();
  entries.forEach((entry, index) => {
    const [version, key] = parseEntry(entry, index + 1);
    if (keys.has(version)) throw new KeyringError(`key version ${version} appears more than once`);
    keys.set(version, key);
  });
  return new AesGcmKeyring(keys);
}

/** A fresh one-key ring spec, `v1:<base64 of 32 random bytes>`, for development secrets. */
export function generateKeyringSpec(version = 1): string {
  if (!Number.isSafeInteger(version) || version < 1 || !VERSION_PATTERN.test(`v${version}`)) {
    throw new TypeError('version must be a positive integer');
  }
  return `v${version}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

function parseEntry(entry: string, position: number): [string, KeyObject] {
  // Messages name the entry by position or validated version only: an entry may be a bare key.
  if (entry === '') throw new KeyringError(`keyring entry ${position} is empty`);
  const separator = entry.indexOf(':');
  if (separator < 0) {
    throw new KeyringError(`keyring entry ${position} is not of the form v<number>:<base64 key>`);
  }
  const version = entry.slice(0, separator).trim();
  const encoded = entry.slice(separator + 1).trim();
  if (!VERSION_PATTERN.test(version)) {
    throw new KeyringError(
      `keyring entry ${position} has an invalid version, expected v<positive integer>`,
    );
  }
  const bytes = decodeBase64Strict(encoded);
  if (bytes === null) throw new KeyringError(`key ${version} is not valid base64`);
  if (bytes.length !== KEY_BYTES) {
    bytes.fill(0);
    throw new KeyringError(`key ${version} is ${bytes.length} bytes, expected ${KEY_BYTES}`);
  }
  const key = createSecretKey(bytes);
  bytes.fill(0); // createSecretKey copies; drop the loose copy
  return [version, key];
}

function decodeBase64Strict(encoded: string): Buffer | null {
  if (encoded === '' || encoded.length % 4 !== 0 || !BASE64_PATTERN.test(encoded)) return null;
  const bytes = Buffer.from(encoded, 'base64');
  // Canonical only: Buffer.from ignores junk bits, so "almost right" keys would silently differ.
  return bytes.toString('base64') === encoded ? bytes : null;
}

class AesGcmKeyring implements Keyring {
  readonly currentVersion: string;
  readonly versions: readonly string[];
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #current: KeyObject;

  constructor(keys: ReadonlyMap<string, KeyObject>) {
    const versions = [...keys.keys()];
    const currentVersion = versions[0];
    const current = currentVersion === undefined ? undefined : keys.get(currentVersion);
    if (currentVersion === undefined || current === undefined) {
      throw new KeyringError('keyring is empty');
    }
    this.#keys = keys;
    this.#current = current;
    this.currentVersion = currentVersion;
    this.versions = Object.freeze(versions);
  }

  encrypt(plaintext: Uint8Array | string, context: EncryptionContext): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current, nonce, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(associatedData(this.currentVersion, context));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const body = Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    return `${this.currentVersion}.${body.toString('base64url')}`;
  }

  decrypt(ciphertext: string, context: EncryptionContext): Buffer {
    const { version, body } = parseCiphertext(ciphertext);
    const key = this.#keys.get(version);
    if (key === undefined) throw new KeyringError(`unknown key version ${version}`);
    const aad = associatedData(version, context);
    const nonce = body.subarray(0, NONCE_BYTES);
    const tag = body.subarray(body.length - TAG_BYTES);
    const sealed = body.subarray(NONCE_BYTES, body.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed), decipher.final()]);
    } catch {
      throw new DecryptionError();
    }
  }

  decryptString(ciphertext: string, context: EncryptionContext): string {
    return this.decrypt(ciphertext, context).toString('utf8');
  }

  needsRotation(ciphertext: string): boolean {
    return parseCiphertext(ciphertext).version !== this.currentVersion;
  }

  reencrypt(ciphertext: string, context: EncryptionContext): string {
    const plaintext = this.decrypt(ciphertext, context);
    try {
      return this.encrypt(plaintext, context);
    } finally {
      plaintext.fill(0);
    }
  }

  toJSON(): { versions: readonly string[] } {
    return { versions: this.versions }; // never the keys, whatever serialises the ring
  }
}

/** Splits `v2.<base64url>`; anything malformed is treated like tampering. */
function parseCiphertext(ciphertext: string): { version: string; body: Buffer } {
  const dot = ciphertext.indexOf('.');
  const version = ciphertext.slice(0, dot);
  const encoded = ciphertext.slice(dot + 1);
  if (dot < 0 || !VERSION_PATTERN.test(version) || !BASE64URL_PATTERN.test(encoded)) {
    throw new DecryptionError();
  }
  const body = Buffer.from(encoded, 'base64url');
  if (body.length < NONCE_BYTES + TAG_BYTES || body.toString('base64url') !== encoded) {
    throw new DecryptionError();
  }
  return { version, body };
}

/**
 * Canonical AAD: JSON of a fixed-order array, so no two contexts share an encoding
 * (`"a|b"` + `"c"` vs `"a"` + `"b|c"` cannot collide). The version is bound too.
 */
function associatedData(version: string, context: EncryptionContext): Buffer {
  const { purpose, tenantId, rowId, chunk } = context;
  const named = [
    ['purpose', purpose],
    ['tenantId', tenantId],
    ['rowId', rowId],
  ] as const;
  for (const [name, value] of named) {
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`encryption context ${name} must be a non-empty string`);
    }
  }
  if (chunk !== undefined && (!Number.isSafeInteger(chunk) || chunk < 0)) {
    throw new TypeError('encryption context chunk must be a non-negative integer');
  }
  const fields = [AAD_LABEL, version, purpose, tenantId, rowId, chunk ?? null];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}
