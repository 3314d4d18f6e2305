import type { FastifyRequest } from 'fastify';

/** One request body; a group PATCH adding 1,000 members is about 60 KiB. */
export const SCIM_BODY_LIMIT_BYTES = 256 * 1024;

/** The SCIM token a request was verified with. */
export interface ScimCaller {
  tokenId: string;
  tenantId: string;
}

const callers = new WeakMap<FastifyRequest, ScimCaller>();

export function setScimCaller(request: FastifyRequest, caller: ScimCaller): void {
  callers.set(request, caller);
}

/** The verified token of a request that reached a handler (the plugin's hook refused every other). */
export function scimCallerOf(request: FastifyRequest): ScimCaller {
  const caller = callers.get(request);
  if (!caller) throw new TypeError('SCIM handler reached without a verified token');
  return caller;
}
