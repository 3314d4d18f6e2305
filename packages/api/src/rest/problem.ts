/**
 * RFC 9457 problem details: how the REST face (rest.ts) answers every refusal and error. The
 * members beyond the RFC's carry what a tRPC client reads from `error.data`: `code` (the tRPC
 * code), `reason` (the snake_case domain reason, docs/design.md "Identity"), `retryAfterSeconds`,
 * `field` and `fieldErrors` (input validation). The status is the one the tRPC path answers.
 * The OpenAPI document's `Problem` schema is generated from `problemDetails`.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemDetails = z
  .object({
    /** Always `about:blank`: `reason` names the problem; `title` is the HTTP status phrase. */
    type: z.literal('about:blank'),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    /** A human-readable message, safe to show (never SQL, stacks or whether an account exists). */
    detail: z.string(),
    /** The tRPC error code of the same call over /trpc, e.g. `FORBIDDEN`. */
    code: z.string(),
    /** The machine-readable reason (`error.data.reason` over tRPC), e.g. `api_key_forbidden`. */
    reason: z.string().optional(),
    retryAfterSeconds: z.number().int().optional(),
    field: z.string().optional(),
    /** Input validation: messages per input path (`_` for the input as a whole). */
    fieldErrors: z.record(z.string(), z.array(z.string())).optional(),
    /** A cross-site refusal (`csrf_rejected`): which rule refused (`content_type`, `origin`, `sec_fetch_site`). */
    why: z.string().optional(),
    /** The `x-request-id` of this answer, for support and logs. */
    requestId: z.string(),
  })
  .meta({ description: 'RFC 9457 problem details.' });
export type ProblemDetails = z.infer<typeof problemDetails>;

/** What a tRPC error shape carries that a problem repeats (`error` of a tRPC answer). */
export interface WireError {
  message: string;
  data: {
    code: string;
    httpStatus?: number;
    reason?: string;
    retryAfterSeconds?: number;
    field?: string;
    fieldErrors?: Record<string, string[]>;
  };
}

export function problemOf(status: number, error: WireError, requestId: string): ProblemDetails {
  const { data } = error;
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: error.message,
    code: data.code,
    ...(data.reason === undefined ? {} : { reason: data.reason }),
    ...(data.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: data.retryAfterSeconds }),
    ...(data.field === undefined ? {} : { field: data.field }),
    ...(data.fieldErrors === undefined ? {} : { fieldErrors: data.fieldErrors }),
    requestId,
  };
}

export function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  // A Buffer: Fastify would append `; charset=utf-8` to a string body's content type.
  return reply
    .code(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(problem)));
}
