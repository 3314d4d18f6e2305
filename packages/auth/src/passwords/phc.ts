/**
 * Reads the cost parameters out of an Argon2 PHC string, so a verified hash made with weaker
 * parameters than the current ones is re-hashed at sign-in. The argon2 package writes
 * `$argon2id$v=19$m=19456,p=1,t=2$<salt>$<hash>` (parameter order is not fixed by the format).
 */
import type { PasswordHashingParams } from './hashing-params.js';

export type Argon2Variant = 'argon2id' | 'argon2i' | 'argon2d';

export interface Argon2PhcInfo extends PasswordHashingParams {
  variant: Argon2Variant;
  /** 19 (0x13) for Argon2 1.3; a missing `v=` means the older 1.0 (16). */
  version: number;
}

const CURRENT_VERSION = 0x13;
const LEGACY_VERSION = 0x10;
const B64 = '[A-Za-z0-9+/]+';
const PHC_PATTERN = new RegExp(
  `^\\$(argon2id|argon2i|argon2d)\\$(?:v=(\\d{1,3})\\$)?([a-z]+=[^$]+)\\$${B64}\\$${B64}$`,
);
const MAX_PHC_LENGTH = 512;

function readParams(list: string): Map<string, number> | null {
  const params = new Map<string, number>();
  for (const pair of list.split(',')) {
    const [key, value, extra] = pair.split('=');
    if (key === undefined || value === undefined || extra !== undefined) return null;
    if (!/^\d{1,10}$/.test(value) || params.has(key)) return null;
    params.set(key, Number(value));
  }
  return params;
}

/** Parses an Argon2 PHC string; returns null when it is not one. */
export function parseArgon2Phc(phc: string): Argon2PhcInfo | null {
  if (phc.length > MAX_PHC_LENGTH) return null;
  const match = PHC_PATTERN.exec(phc);
  if (!match) return null;
  const [, variant, version, list] = match;
  const params = readParams(list ?? '');
  const memoryCost = params?.get('m');
  const timeCost = params?.get('t');
  const parallelism = params?.get('p');
  if (memoryCost === undefined || timeCost === undefined || parallelism === undefined) {
    return null;
  }
  return {
    variant: variant as Argon2Variant,
    version: version === undefined ? LEGACY_VERSION : Number(version),
    memoryCost,
    timeCost,
    parallelism,
  };
}

/**
 * True when the stored hash is weaker than `current`: another Argon2 variant, an older
 * version, or any of m, t, p below the current value. Stronger stored parameters are kept,
 * so lowering the configuration never downgrades existing hashes.
 */
export function isWeakerThan(info: Argon2PhcInfo, current: PasswordHashingParams): boolean {
  return (
    info.variant !== 'argon2id' ||
    info.version < CURRENT_VERSION ||
    info.memoryCost < current.memoryCost ||
    info.timeCost < current.timeCost ||
    info.parallelism < current.parallelism
  );
}
