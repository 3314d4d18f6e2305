/**
 * The only mapping from domain errors to the wire (docs/contributing.md convention 6). A new AuthErrorCode does
 * not compile until it has a row here. Messages never say whether an account exists.
 */
import { AuthError, type AuthErrorCode } from '@tessera/auth';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

const wireByCode = {
  invalid_credentials: ['UNAUTHORIZED', 'Email or password is incorrect.'],
  account_locked: ['TOO_MANY_REQUESTS', 'Too many attempts. Try again later.'],
  sso_required: [
    'FORBIDDEN',
    'Your organisation requires single sign-on for this e-mail address. Sign in with SSO instead.',
  ],
  account_disabled: ['UNAUTHORIZED', 'Email or password is incorrect.'],
  rate_limited: ['TOO_MANY_REQUESTS', 'Too many requests. Try again later.'],
  server_busy: ['SERVICE_UNAVAILABLE', 'The server is busy. Try again shortly.'],
  unauthenticated: ['UNAUTHORIZED', 'Sign in first.'],
  forbidden: ['FORBIDDEN', 'You are not allowed to do this.'],
  not_found: ['NOT_FOUND', 'Not found.'],
  conflict: ['CONFLICT', 'This conflicts with existing data.'],
  invalid_input: ['BAD_REQUEST', 'The input is not valid.'],
  weak_password: ['BAD_REQUEST', 'Choose a stronger password.'],
  session_expired: ['UNAUTHORIZED', 'Your session has expired. Sign in again.'],
  csrf_rejected: ['FORBIDDEN', 'Cross-site request refused.'],
  mfa_code_invalid: ['UNAUTHORIZED', 'The code is not valid.'],
  mfa_code_replayed: ['UNAUTHORIZED', 'The code is not valid.'], // same text: no oracle
  mfa_enrollment_required: ['FORBIDDEN', 'Set up two-factor authentication first.'],
  step_up_required: ['PRECONDITION_FAILED', 'Confirm with your authenticator first.'],
  token_invalid: ['BAD_REQUEST', 'This link is invalid or has expired.'],
  last_owner: ['PRECONDITION_FAILED', 'A tenant must keep at least one owner.'],
  api_key_not_found: ['NOT_FOUND', 'API key not found.'],
  api_key_already_rotated: [
    'CONFLICT',
    'This API key was already rotated. Rotate its newest successor instead.',
  ],
  api_key_invalid: ['UNAUTHORIZED', 'Invalid API key.'],
  api_key_forbidden: ['FORBIDDEN', 'This API key may not do this.'],
  api_key_rate_limited: ['TOO_MANY_REQUESTS', 'Rate limit exceeded for this API key.'],
  api_key_quota_exhausted: ['TOO_MANY_REQUESTS', 'Usage quota exhausted for this API key.'],
} as const satisfies Record<AuthErrorCode, readonly [TRPC_ERROR_CODE_KEY, string]>;

export function toWireError(error: TRPCError): TRPCError {
  if (!(error.cause instanceof AuthError)) return error; // zod -> BAD_REQUEST; unknown -> INTERNAL_SERVER_ERROR
  const [code, message] = wireByCode[error.cause.code];
  return new TRPCError({ code, message: error.cause.detail ?? message, cause: error.cause });
}

export interface WireErrorData {
  reason?: AuthErrorCode;
  retryAfterSeconds?: number;
  field?: string;
  fieldErrors?: Record<string, string[]>;
}
