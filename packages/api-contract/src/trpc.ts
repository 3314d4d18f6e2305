import type { TenantTx, WithTenantOptions } from '@tessera/db';
import { traceProcedure, withTenant } from '@tessera/db';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { apiKeyRefused, AuthError } from '@tessera/auth';
import { enforceLimit } from '@tessera/auth/rate-limit';
import type { ApiKeyScope } from '@tessera/auth/api-keys';
import { holdsPermission, type Permission } from '@tessera/auth/roles';
import type { Context, Principal, SessionPrincipal } from './context.js';
import { toWireError, type WireErrorData } from './errors.js';
import { rejectUnsafeText } from './middleware/reject-unsafe-text.js';

/**
 * Who may call a procedure, declared as data (docs/contributing.md convention 7); `authorize`
 * enforces it. Every non-public procedure names the permission a session needs (docs/roles.md):
 * one of the vocabulary, held through the caller's built-in or custom role, or `'self'` for a call
 * any signed-in user of the tenant may make on their own account (own sessions, factors, data).
 */
export type Access =
  | 'public'
  | {
      permission: Permission | 'self';
      /** API-key scope that grants access; omitted = API keys are refused. */
      scope?: ApiKeyScope;
      /** Refuse sessions (e.g. apiKeys.revokeSelf is for the key itself). */
      apiKeyOnly?: boolean;
    };

export interface Meta {
  access: Access;
  /** May an enrollment-only session (MFA required, not yet enrolled) call it? (docs/design.md "MFA") */
  allowEnrollmentOnly?: boolean;
}

const INTERNAL_MESSAGE = 'Something went wrong. Try again later.';

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    isDev: false, // never ship stacks (docs/design.md rule 5)
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

function allowed(access: Access, principal: Principal | null): boolean {
  if (access === 'public') return true;
  if (!principal) return false;
  if (principal.kind === 'session')
    return (
      !access.apiKeyOnly && (access.permission === 'self' || holds(principal, access.permission))
    );
  if (access.apiKeyOnly) return true;
  return (
    access.scope !== undefined &&
    principal.keyType === 'secret' &&
    principal.scopes.includes(access.scope)
  );
}

/** Does the session's built-in role or custom role grant `permission` (docs/roles.md)? */
export function holds(principal: SessionPrincipal, permission: Permission): boolean {
  return holdsPermission(principal.role, principal.customRole?.permissions, permission);
}

/** Who may call: the procedure's declared access (docs/contributing.md convention 7) and the enrollment-only rule. */
function authorize(meta: Meta | undefined, principal: Principal | null): void {
  if (!meta) throw new TypeError('every procedure must declare meta({ access })');
  if (principal?.kind === 'session' && principal.enrollmentOnly && !meta.allowEnrollmentOnly) {
    throw new AuthError('mfa_enrollment_required');
  }
  if (!allowed(meta.access, principal)) {
    if (principal?.kind === 'api_key') throw apiKeyRefused('api_key_forbidden');
    throw new AuthError(principal ? 'forbidden' : 'unauthenticated');
  }
}

/**
 * Every call's guard, as one middleware: a `trpc <path>` span (a no-op without an OpenTelemetry
 * SDK; transactions nest under it), the per-IP call budget (each tRPC call counts), refusal of NUL
 * and unpaired surrogates anywhere in the raw input before zod and any database work
 * (middleware/reject-unsafe-text.ts), who may call, and the one translation of every domain error
 * (docs/contributing.md convention 6). One middleware rather than five: each tRPC middleware level copies the
 * call's options twice, which cost about a fifth of a short call's CPU (profiled on health.check).
 */
const guard = t.middleware(({ path, type, meta, ctx, getRawInput, next }) =>
  traceProcedure(path, type, async () => {
    let result: Awaited<ReturnType<typeof next>>;
    try {
      await enforceLimit(
        ctx.services.accounts.limiter,
        `call:ip:${ctx.meta.ip}`,
        ctx.services.callLimit,
        ctx.now(),
      );
      rejectUnsafeText(await getRawInput());
      authorize(meta, ctx.principal);
      result = await next();
    } catch (cause) {
      // The span records the thrown error (withSpan); the client gets the same wire error.
      throw toWireError(getTRPCErrorFromUnknown(cause));
    }
    if (!result.ok) throw toWireError(result.error);
    return result;
  }),
);

export const publicProcedure = t.procedure.use(guard);

/** A signed-in principal (session or API key); `ctx.withTenant` is bound to its tenant. */
export const tenantProcedure = publicProcedure.use(({ ctx, next }) => {
  const principal = ctx.principal;
  if (!principal) throw new AuthError('unauthenticated');
  return next({
    ctx: {
      principal,
      withTenant: <T>(fn: (tx: TenantTx) => Promise<T>, options?: WithTenantOptions): Promise<T> =>
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
export async function limitPerIp(
  ctx: Context,
  bucket: string,
  rule: { max: number; windowMs: number },
): Promise<void> {
  await enforceLimit(ctx.services.accounts.limiter, `${bucket}:ip:${ctx.meta.ip}`, rule, ctx.now());
}

export function requestOf(ctx: Context): { ip: string; userAgent: string | null } {
  return { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
}

export { TRPCError };
