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
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TrpcHandlers } from './trpc.js';

type ProcedureOptions = Parameters<AnyProcedure>[0];
type Result =
  { ok: true; data: unknown; marker: string } | { ok: false; error: TRPCError; marker: string };
interface NextOptions {
  ctx?: object;
  input?: unknown;
  getRawInput?: ProcedureOptions['getRawInput'];
}
interface LevelOptions {
  ctx: unknown;
  type: ProcedureOptions['type'];
  path: string;
  input: unknown;
  getRawInput: ProcedureOptions['getRawInput'];
  meta: unknown;
  signal: AbortSignal | undefined;
  batchIndex: number;
  next: (next?: NextOptions) => Promise<Result | undefined>;
}
type Middleware = (options: LevelOptions) => Promise<Result | undefined>;

/** What the lean path calls with: tRPC's procedure options, the abort signal built on first read. */
export interface LeanCallOptions {
  path: string;
  type: ProcedureOptions['type'];
  ctx: unknown;
  getRawInput: ProcedureOptions['getRawInput'];
  batchIndex: number;
  signal: () => AbortSignal;
}

const MARKER = 'middlewareMarker';
const FORGOT_NEXT = 'No result from middlewares - did you forget to `return next()`?';

function middlewaresOf(
  procedure: AnyProcedure,
): { middlewares: readonly Middleware[]; meta: unknown } | null {
  const def = procedure._def as unknown as { middlewares?: unknown; meta?: unknown };
  if (!Array.isArray(def.middlewares) || !def.middlewares.every((m) => typeof m === 'function'))
    return null;
  return { middlewares: def.middlewares as Middleware[], meta: def.meta };
}

/**
 * Each level's options are built field by field (tRPC's keys: ctx, type, path, input, getRawInput,
 * meta, signal, batchIndex, next); `signal` is a getter, so the AbortSignal (a costly object to
 * build) exists only for a call that reads it.
 */
export async function callProcedureLean(
  procedure: AnyProcedure,
  options: LeanCallOptions,
): Promise<unknown> {
  const chain = middlewaresOf(procedure);
  const { path, type, batchIndex, signal } = options;
  if (chain === null)
    return procedure({
      path,
      type,
      batchIndex,
      ctx: options.ctx,
      getRawInput: options.getRawInput,
      signal: signal(),
    });
  const { middlewares, meta } = chain;
  const run = async (
    index: number,
    ctx: unknown,
    input: unknown,
    getRawInput: ProcedureOptions['getRawInput'],
  ): Promise<Result | undefined> => {
    try {
      const middleware = middlewares[index];
      if (middleware === undefined)
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: FORGOT_NEXT });
      return await middleware({
        ctx,
        type,
        path,
        input,
        getRawInput,
        meta,
        get signal() {
          return signal();
        },
        batchIndex,
        next: (next?: NextOptions) =>
          run(
            index + 1,
            next?.ctx ? { ...(ctx as object), ...next.ctx } : ctx,
            next && 'input' in next ? next.input : input,
            next?.getRawInput ?? getRawInput,
          ),
      });
    } catch (cause) {
      return { ok: false, error: getTRPCErrorFromUnknown(cause), marker: MARKER };
    }
  };
  const result = await run(0, options.ctx, undefined, options.getRawInput);
  if (!result) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: FORGOT_NEXT });
  if (!result.ok) throw result.error;
  return result.data;
}

/**
 * The abort signal of a call answered outside the adapter: aborted when the client goes away
 * before the answer is written, as the adapter's request signal is. Built on first read (most
 * calls never read it), and already aborted when first read after the client has gone.
 */
export function disconnectSignal(reply: FastifyReply): () => AbortSignal {
  let signal: AbortSignal | undefined;
  return () => {
    if (signal) return signal;
    if (reply.raw.destroyed && !reply.raw.writableEnded) return (signal = AbortSignal.abort());
    const controller = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) controller.abort();
    });
    return (signal = controller.signal);
  };
}

/** One call answered outside the adapter (the lean /trpc path and the REST face). */
export interface SingleCall {
  path: string;
  procedure: AnyProcedure;
  type: LeanCallOptions['type'];
  info: TRPCRequestInfo;
  getRawInput: LeanCallOptions['getRawInput'];
  /** The input as onError reports it. */
  inputForError: () => unknown;
  signal: () => AbortSignal;
}

export interface SingleCallOutcome {
  ctx: ReturnType<TrpcHandlers['createContext']> | undefined;
  data: unknown;
  error: TRPCError | undefined;
}

/** createContext, the procedure, and onError for a failure, as the adapter runs one call. */
export async function runSingleCall(
  request: FastifyRequest,
  reply: FastifyReply,
  handlers: TrpcHandlers,
  call: SingleCall,
): Promise<SingleCallOutcome> {
  const { path, procedure, type } = call;
  let ctx: SingleCallOutcome['ctx'];
  try {
    ctx = handlers.createContext({ req: request, res: reply, info: call.info });
    const data = await callProcedureLean(procedure, {
      path,
      type,
      ctx,
      getRawInput: call.getRawInput,
      batchIndex: 0,
      signal: call.signal,
    });
    return { ctx, data, error: undefined };
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    handlers.onError({ error, path, input: call.inputForError(), ctx, type, req: request });
    return { ctx, data: undefined, error };
  }
}
