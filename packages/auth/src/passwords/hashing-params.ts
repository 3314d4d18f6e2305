/** Argon2id cost parameters: OWASP's default profile and a cheap profile for tests. */

export interface PasswordHashingParams {
  /** Memory in KiB. */
  memoryCost: number;
  /** Passes over memory. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, Argon2id: m=19456 KiB (19 MiB), t=2, p=1. */
export const OWASP_PARAMS: Readonly<PasswordHashingParams> = Object.freeze({
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/** Cheap parameters for tests elsewhere in the monorepo. Never configure these in production. */
export const TEST_PARAMS: Readonly<PasswordHashingParams> = Object.freeze({
  memoryCost: 1024,
  timeCost: 1,
  parallelism: 1,
});

const MAX_MEMORY_KIB = 4 * 1024 * 1024; // 4 GiB: a typo in config must not take the host down
const MAX_TIME_COST = 64;
const MAX_PARALLELISM = 64;

function isIntegerIn(value: number, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Throws a TypeError for parameters argon2 would refuse or that would exhaust the host. */
export function assertHashingParams(params: PasswordHashingParams): void {
  const { memoryCost, timeCost, parallelism } = params;
  const valid =
    isIntegerIn(parallelism, 1, MAX_PARALLELISM) &&
    isIntegerIn(timeCost, 1, MAX_TIME_COST) &&
    // RFC 9106 §3.1: memory is at least 8 KiB per lane.
    isIntegerIn(memoryCost, 8 * parallelism, MAX_MEMORY_KIB);
  if (!valid) {
    throw new TypeError(
      `invalid Argon2id parameters m=${memoryCost}, t=${timeCost}, p=${parallelism}`,
    );
  }
}
