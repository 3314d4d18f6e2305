/**
 * Reads a tRPC error the way the server shapes it (packages/api-contract/src/trpc.ts):
 * `data.reason` (domain code), `data.field` (the input field a domain error concerns),
 * `data.fieldErrors` (zod issues by dotted path) and `data.retryAfterSeconds`.
 */
import { TRPCClientError } from '@trpc/client';

export interface ApiError {
  message: string;
  code: string | undefined;
  httpStatus: number | undefined;
  reason: string | undefined;
  field: string | undefined;
  fieldErrors: Record<string, string[]>;
  retryAfterSeconds: number | undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function fieldErrorsOf(value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, messages] of Object.entries(record(value))) {
    if (Array.isArray(messages))
      out[key] = messages.filter((m): m is string => typeof m === 'string');
  }
  return out;
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof TRPCClientError) {
    const data = record((error as TRPCClientError<never>).data);
    return {
      message: error.message,
      code: str(data['code']),
      httpStatus: num(data['httpStatus']),
      reason: str(data['reason']),
      field: str(data['field']),
      fieldErrors: fieldErrorsOf(data['fieldErrors']),
      retryAfterSeconds: num(data['retryAfterSeconds']),
    };
  }
  const message = error instanceof Error ? error.message : 'Something went wrong.';
  return {
    message,
    code: undefined,
    httpStatus: undefined,
    reason: undefined,
    field: undefined,
    fieldErrors: {},
    retryAfterSeconds: undefined,
  };
}

/** tRPC's answer for a path the router does not have (a console newer than its server). */
export function isMissingProcedure(error: unknown): boolean {
  const e = toApiError(error);
  return (
    e.code === 'NOT_FOUND' && e.reason === undefined && e.message.startsWith('No procedure found')
  );
}

export function isUnauthenticated(error: unknown): boolean {
  return toApiError(error).code === 'UNAUTHORIZED';
}

/** Only transport failures and 5xx are worth a retry; 4xx answers are final. */
export function isRetryable(error: unknown): boolean {
  const e = toApiError(error);
  if (e.httpStatus !== undefined) return e.httpStatus >= 500;
  return e.code === undefined;
}

/**
 * Domain errors that name no `field` but can only concern one input: shown next to it. (Sign-in
 * failures stay form-level on purpose: they must not say whether the e-mail or the password was wrong.)
 */
const REASON_FIELDS: Record<string, readonly string[]> = {
  mfa_code_invalid: ['code'],
  mfa_code_replayed: ['code'],
  weak_password: ['password', 'newPassword'],
};

/**
 * Errors per form field: zod's `fieldErrors` (first segment of the path) plus a domain error's
 * `field`. What belongs to no known field is returned as `form`.
 */
export function fieldErrorsFrom(
  error: unknown,
  fields: readonly string[],
): { fields: Record<string, string>; form: string | null } {
  const e = toApiError(error);
  const out: Record<string, string> = {};
  const leftovers: string[] = [];
  for (const [path, messages] of Object.entries(e.fieldErrors)) {
    const key = path.split('.')[0] ?? path;
    const message = messages[0];
    if (message === undefined) continue;
    if (fields.includes(key)) out[key] ??= message;
    else leftovers.push(message);
  }
  const field = e.field ?? REASON_FIELDS[e.reason ?? '']?.find((name) => fields.includes(name));
  if (field !== undefined && fields.includes(field)) out[field] ??= describe(e);
  const claimed = Object.keys(out).length > 0;
  let form: string | null = null;
  if (leftovers.length > 0) form = leftovers.join(' ');
  else if (!claimed) form = describe(e);
  return { fields: out, form };
}

/** A sentence for a person, with the wait time when the server gave one. */
export function describe(e: ApiError): string {
  if (e.retryAfterSeconds !== undefined)
    return `${e.message} Wait ${formatWait(e.retryAfterSeconds)}.`;
  if (e.code === undefined && e.httpStatus === undefined && e.message.includes('fetch'))
    return 'The server cannot be reached. Check your connection and try again.';
  return e.message;
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
