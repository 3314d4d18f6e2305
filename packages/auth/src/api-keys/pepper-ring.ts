/**
 * The API-key pepper ring (`API_KEY_PEPPERS`, docs/design.md "Secrets"): `v2:base64,v1:base64`, parsed
 * by the keyring's own rules (parseKeyring validates every entry), first entry current. Keys are
 * stored as HMAC-SHA-256(pepper, key), so a database dump alone cannot confirm a guessed key;
 * each row names its pepper version, and verification looks a key up under every version in the
 * ring in one query. Rotation: prepend a new version, keep the old one until no row names it
 * (verified keys are re-hashed under the current pepper as they are used).
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { parseKeyring } from '../crypto/keyring.js';

/** The lookup function takes at most this many hashes (migrations/0007_api_keys.sql). */
export const MAX_PEPPER_VERSIONS = 4;

export interface PepperedHash {
  version: string;
  hash: Buffer;
}

export interface PepperRing {
  readonly currentVersion: string;
  readonly versions: readonly string[];
  /** HMAC-SHA-256 of the key under the current pepper. */
  hashCurrent(key: string): Buffer;
  /** One hash per version, current first. */
  hashAll(key: string): PepperedHash[];
}

export function parsePepperRing(spec: string): PepperRing {
  const validated = parseKeyring(spec); // same rules and safe messages as DATA_ENCRYPTION_KEYS
  if (validated.versions.length > MAX_PEPPER_VERSIONS) {
    throw new TypeError(`API_KEY_PEPPERS holds at most ${MAX_PEPPER_VERSIONS} versions`);
  }
  const peppers = new Map<string, KeyObject>();
  for (const entry of spec.split(',')) {
    const separator = entry.indexOf(':');
    const bytes = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
    peppers.set(entry.slice(0, separator).trim(), createSecretKey(bytes));
    bytes.fill(0);
  }
  return new HmacPepperRing(validated.versions, peppers);
}

class HmacPepperRing implements PepperRing {
  readonly currentVersion: string;
  readonly #current: KeyObject;
  readonly #entries: readonly (readonly [string, KeyObject])[];

  constructor(
    readonly versions: readonly string[],
    peppers: ReadonlyMap<string, KeyObject>,
  ) {
    this.#entries = versions.map((version) => {
      const pepper = peppers.get(version);
      if (!pepper) throw new TypeError('pepper ring is inconsistent');
      return [version, pepper] as const;
    });
    const first = this.#entries[0];
    if (!first) throw new TypeError('pepper ring is empty');
    [this.currentVersion, this.#current] = first;
  }

  hashCurrent(key: string): Buffer {
    return createHmac('sha256', this.#current).update(key).digest();
  }

  hashAll(key: string): PepperedHash[] {
    return this.#entries.map(([version, pepper]) => ({
      version,
      hash: createHmac('sha256', pepper).update(key).digest(),
    }));
  }

  toJSON(): { versions: readonly string[] } {
    return { versions: this.versions }; // never the peppers, whatever serialises the ring
  }
}
