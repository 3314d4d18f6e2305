/** The closed list of refusals the domain can express; api-contract maps each to the wire once. */
export type AuthErrorCode =
  | 'invalid_credentials' // unknown user and wrong password look identical (docs/design.md rule 5)
  | 'sso_required' // the address's domain is verified by the tenant, which requires SSO for it
  | 'account_locked'
  | 'account_disabled'
  | 'rate_limited'
  | 'server_busy' // the process cannot start the work soon enough; answered 503 with Retry-After
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid_input'
  | 'weak_password'
  | 'session_expired'
  | 'csrf_rejected'
  | 'mfa_code_invalid'
  | 'mfa_code_replayed'
  | 'mfa_enrollment_required'
  | 'step_up_required'
  | 'token_invalid'
  | 'last_owner'
  | 'api_key_not_found'
  | 'api_key_already_rotated' // a key rotates once; its successor carries the quota on
  | 'api_key_invalid'
  | 'api_key_forbidden'
  | 'api_key_rate_limited'
  | 'api_key_quota_exhausted';

export interface AuthErrorOptions {
  cause?: unknown;
  retryAfterSeconds?: number;
  /** Safe, user-facing detail (e.g. why a password was refused). Never secrets or existence hints. */
  detail?: string;
  /** The input field the refusal concerns, for forms. */
  field?: string;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly retryAfterSeconds: number | undefined;
  readonly detail: string | undefined;
  readonly field: string | undefined;

  constructor(
    readonly code: AuthErrorCode,
    options: AuthErrorOptions = {},
  ) {
    super(code, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.detail = options.detail;
    this.field = options.field;
  }
}
