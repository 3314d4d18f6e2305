export { assertHashingParams, OWASP_PARAMS, TEST_PARAMS } from './hashing-params.js';
export type { PasswordHashingParams } from './hashing-params.js';
export { hashPassword } from './hash-password.js';
export { verifyPassword } from './verify-password.js';
export type { PasswordVerification, StoredPassword } from './verify-password.js';
export { dummyVerify, warmUpDummyHash } from './dummy-verify.js';
export {
  BCRYPT_MAX_COST,
  BCRYPT_MAX_PASSWORD_BYTES,
  bcryptCostOf,
  isBcryptHash,
} from './bcrypt-legacy.js';
export { isWeakerThan, parseArgon2Phc } from './phc.js';
export type { Argon2PhcInfo, Argon2Variant } from './phc.js';
export { createHashQueue } from './hash-queue.js';
export { HASHING_NICE, lowerHashingPriority, threadNice } from './hashing-priority.js';
export type { HashingPriorityResult } from './hashing-priority.js';
export type { HashQueue, HashQueueOptions } from './hash-queue.js';
export {
  codePointLength,
  isOverlongPassword,
  MAX_PASSWORD_CODE_POINTS,
  MAX_PASSWORD_UTF16_UNITS,
  normalizePassword,
} from './password-text.js';
export {
  assertPasswordAcceptable,
  checkPassword,
  ESTIMATOR_MAX_CODE_POINTS,
} from './password-policy.js';
export type { PasswordCheckOptions, PasswordCheckResult } from './password-policy.js';
export type { PasswordRefusal } from './policy-feedback.js';
export {
  assertMinimumLengthAllowed,
  MAX_CONFIGURABLE_MIN_LENGTH,
  minimumLengthFor,
  MULTI_FACTOR_MIN_LENGTH,
  SINGLE_FACTOR_MIN_LENGTH,
} from './minimum-length.js';
export type { PasswordLengthPolicy } from './minimum-length.js';
export {
  createWorkerStrengthEstimator,
  defaultStrengthEstimator,
} from './worker-strength-estimator.js';
export type {
  WorkerStrengthEstimator,
  WorkerStrengthEstimatorOptions,
} from './worker-strength-estimator.js';
export type { StrengthEstimate, StrengthEstimator, StrengthScore } from './strength-estimator.js';
export { createBreachedPasswordChecker } from './breached-password.js';
export type {
  BreachCheck,
  BreachCheckFailure,
  BreachCheckFailureReason,
  BreachedPasswordCheckerOptions,
} from './breached-password.js';
export {
  createPasswordService,
  defaultHashConcurrency,
  defaultHashQueue,
  NO_TENANT_QUEUE_KEY,
} from './password-service.js';
export type {
  PasswordPolicyInput,
  PasswordServiceAdapter,
  PasswordServiceOptions,
} from './password-service.js';
