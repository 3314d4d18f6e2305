/**
 * RFC 7644 §3.12 error responses: every refusal on /scim/v2 is `application/scim+json` with the
 * Error schema, `status` as a string, and `scimType` where the RFC defines one. Domain refusals
 * (AuthError) map here and nowhere else; 5xx never carry a cause.
 */
import { AuthError } from '@tessera/auth';
import type { FastifyReply } from 'fastify';

/** RFC 7644 §3.1; the charset spelled out, as Fastify would add it anyway. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** A refusal to answer as an RFC 7644 error. */
export class ScimError extends Error {
  override readonly name = 'ScimError';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
  }
}

export function sendScimError(reply: FastifyReply, error: ScimError): FastifyReply {
  return reply
    .code(error.status)
    .header('content-type', SCIM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        schemas: [ERROR_SCHEMA],
        status: String(error.status),
        ...(error.scimType ? { scimType: error.scimType } : {}),
        detail: error.detail,
      }),
    );
}

/** The SCIM answer for a domain refusal; anything else is not ours to describe (500). */
export function scimErrorOf(error: unknown): ScimError | null {
  if (error instanceof ScimError) return error;
  if (!(error instanceof AuthError)) return null;
  const detail = error.detail;
  switch (error.code) {
    case 'not_found':
      return new ScimError(404, 'Resource not found.');
    case 'conflict':
      return new ScimError(409, detail ?? 'This value is already taken.', 'uniqueness');
    case 'invalid_input':
      return new ScimError(400, detail ?? 'A value is not valid.', 'invalidValue');
    case 'forbidden':
    case 'last_owner':
      return new ScimError(403, detail ?? 'This change is not allowed.', 'mutability');
    default:
      return null;
  }
}
