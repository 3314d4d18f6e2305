import type { TenantTx } from '@tessera/db';
import { markSpanFailed, traceProcedure, withTenant } from '@tessera/db';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { AuthError } from '@tessera/auth';
import { enforceLimit } from '@tessera/auth/accounts';
import type { Context, Principal, Role } from './context.js';
import { toWireError, type WireErrorData } from './errors.js';
import { rejectUnsafeText } from './middleware/reject-unsafe-text.js';

/** Who may call a procedure, declared as data (STYLE convention 7); `authorize` enforces it. */
export type Access =
  | 'public'
  | {
      /** Session roles allowed; omitted = any signed-in user of the tenant. */
      roles?: readonly Role[];
      /** API-key scope that grants access; omitted = API keys are refused. */
      scope?: string;
      /** Refuse sessions (e.g. apiKeys.revokeSelf is for the key itself). */
      apiKeyOnly?: boolean;
    };

export interface Meta {
  access: Access;
  /** May an enrollment-only session (MFA required, not yet enrolled) call it? (DESIGN "MFA") */
  allowEnrollmentOnly?: boolean;
}

const INTERNAL_MESSAGE = 'Something went wrong. Try again later.';

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    isDev: false, // never ship stacks (DESIGN rule 5)
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      const data: typeof shape.data & WireErrorData = { ...shape.data };
      delete (data as { stack?: string }).stack;
      if (cause instanceof AuthError) {
        data.reason = cause.code;
        if (cause.retryAfterSeconds !== undefined) data.retryAfterSeconds = cause.retryAfterSeconds;
        if (cause.field !== undefined) data.field = cause.field;
      }
      if (cause instanceof ZodError) data.fieldErrors = flattenZod(cause);
      const message = error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_MESSAGE : shape.message;
      return { ...shape, message, data };
    },
  });

function flattenZod(error: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/** Translates every domain error once (STYLE convention 6). */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toWireError(result.error);
  return result;
});

function allowed(access: Access, principal: Principal | null): boolean {
  if (access === 'public') return true;
  if (!principal) return false;
  if (principal.kind === 'session') return !access.apiKeyOnly && (!access.roles || access.roles.includes(principal.role));
  if (access.apiKeyOnly) return true;
  return access.scope !== undefined && principal.keyType === 'secret' && principal.scopes.includes(access.scope);
}

const authorize = t.middleware(({ meta, ctx, next }) => {
  if (!meta) throw new TypeError('every procedure must declare meta({ access })');
  if (ctx.principal?.kind === 'session' && ctx.principal.enrollmentOnly && !meta.allowEnrollmentOnly) {
    throw new AuthError('mfa_enrollment_required');
  }
  if (!allowed(meta.access, ctx.principal)) {
    throw new AuthError(ctx.principal ? (ctx.principal.kind === 'api_key' ? 'api_key_forbidden' : 'forbidden') : 'unauthenticated');
  }
  return next();
});

const limitCalls = t.middleware(async ({ ctx, next }) => {
  await enforceLimit(ctx.services.accounts.limiter, `call:ip:${ctx.meta.ip}`, ctx.services.callLimit, ctx.now());
  return next();
});

/**
 * Refuses NUL and unpaired surrogates anywhere in the raw input (strings and property names),
 * before zod and before any database work (middleware/reject-unsafe-text.ts).
 */
const refuseUnsafeText = t.middleware(async ({ getRawInput, next }) => {
  rejectUnsafeText(await getRawInput());
  return next();
});

/** One `trpc <path>` span per call (a no-op without an OpenTelemetry SDK); transactions nest under it. */
const traceCalls = t.middleware(({ path, type, next }) =>
  traceProcedure(path, type, async (span) => {
    const result = await next();
    if (!result.ok) markSpanFailed(span, result.error);
    return result;
  }),
);

export const publicProcedure = t.procedure.use(traceCalls).use(mapErrors).use(limitCalls).use(refuseUnsafeText).use(authorize);

/** A signed-in principal (session or API key); `ctx.withTenant` is bound to its tenant. */
export const tenantProcedure = publicProcedure.use(({ ctx, next }) => {
  const principal = ctx.principal;
  if (!principal) throw new AuthError('unauthenticated');
  return next({
    ctx: {
      principal,
      withTenant: <T>(fn: (tx: TenantTx) => Promise<T>, options?: { readOnly?: boolean }): Promise<T> =>
        withTenant(ctx.db, principal.tenantId, fn, options),
    },
  });
});

/** A session only (not an API key). */
export const sessionProcedure = tenantProcedure.use(({ ctx, next }) => {
  if (ctx.principal.kind !== 'session') throw new AuthError('forbidden');
  return next({ ctx: { principal: ctx.principal } });
});

/** Counts one call against a per-IP bucket (each tRPC call counts, not each HTTP request). */
export async function limitPerIp(ctx: Context, bucket: string, rule: { max: number; windowMs: number }): Promise<void> {
  await enforceLimit(ctx.services.accounts.limiter, `${bucket}:ip:${ctx.meta.ip}`, rule, ctx.now());
}

export function requestOf(ctx: Context): { ip: string; userAgent: string | null } {
  return { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
}

export { TRPCError };
