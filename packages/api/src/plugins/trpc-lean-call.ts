/**
 * Calls a procedure by running its middleware chain the way tRPC's procedure caller does: each
 * level gets the call's options with the procedure's `meta` and a `next` that hands the next
 * level the same options, `ctx` merged with what the middleware passed to `next({ ctx })`, and
 * `input` / `getRawInput` replaced when it passed them; a throw at any level becomes
 * `{ ok: false, error }` for the level above; the caller throws the final error or returns the
 * data. tRPC's build copies those option objects with a transpiled object-spread helper that
 * defines every property one by one, about a twentieth of a short call's CPU; plain spreads do
 * the same copy natively.
 *
 * Used only by the lean path, and only when the procedure's definition has the shape this code
 * knows (an array of middlewares); otherwise the procedure is called as tRPC ships it, so a
 * different tRPC version can make the call slower, never different. The lean route's conformance
 * test compares every answer with the stock adapter's.
 */
import { getTRPCErrorFromUnknown, TRPCError, type AnyProcedure } from '@trpc/server';

type CallOptions = Parameters<AnyProcedure>[0] & { input?: unknown };
type Result = { ok: true; data: unknown; marker: string } | { ok: false; error: TRPCError; marker: string };
type Middleware = (options: CallOptions & { meta: unknown; next: (nextOptions?: NextOptions) => Promise<Result | undefined> }) => Promise<Result | undefined>;
interface NextOptions {
  ctx?: object;
  input?: unknown;
  getRawInput?: CallOptions['getRawInput'];
}

const MARKER = 'middlewareMarker';

function middlewaresOf(procedure: AnyProcedure): { middlewares: readonly Middleware[]; meta: unknown } | null {
  const def = procedure._def as unknown as { middlewares?: unknown; meta?: unknown };
  if (!Array.isArray(def.middlewares) || !def.middlewares.every((m) => typeof m === 'function')) return null;
  return { middlewares: def.middlewares as Middleware[], meta: def.meta };
}

export async function callProcedureLean(procedure: AnyProcedure, options: CallOptions): Promise<unknown> {
  const chain = middlewaresOf(procedure);
  if (chain === null) return procedure(options);
  const { middlewares, meta } = chain;
  const run = async (index: number, current: CallOptions): Promise<Result | undefined> => {
    try {
      const middleware = middlewares[index];
      if (middleware === undefined) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'No result from middlewares - did you forget to `return next()`?' });
      return await middleware({
        ...current,
        meta,
        input: current.input,
        next: (next?: NextOptions) =>
          run(index + 1, {
            ...current,
            ctx: next?.ctx ? { ...(current.ctx as object), ...next.ctx } : current.ctx,
            input: next && 'input' in next ? next.input : current.input,
            getRawInput: next?.getRawInput ?? current.getRawInput,
          }),
      });
    } catch (cause) {
      return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: MARKER };
    }
  };
  const result = await run(0, options);
  if (!result) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'No result from middlewares - did you forget to `return next()`?' });
  if (!result.ok) throw result.error;
  return result.data;
}
