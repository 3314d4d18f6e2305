import { initTRPC, TRPCError, type AnyProcedure } from '@trpc/server';
import { describe, expect, test } from 'vitest';
import { callProcedureLean } from './trpc-lean-call.js';

interface Ctx {
  user: string | null;
  trail: string[];
}
/** A validator as tRPC accepts one: a function that returns the parsed value or throws. */
const numberInput = (value: unknown): { n: number } => {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { n?: unknown }).n !== 'number'
  )
    throw new Error('n must be a number');
  return value as { n: number };
};
const stringInput = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error('a string');
  return value;
};

const t = initTRPC.context<Ctx>().meta<{ tag: string }>().create();

const withUser = t.middleware(({ ctx, next }) =>
  next({ ctx: { user: ctx.user ?? 'anonymous', extra: 1 } }),
);
const recordMeta = t.middleware(({ meta, ctx, next }) => {
  ctx.trail.push(`meta:${meta?.tag ?? ''}`);
  return next();
});
const swapInput = t.middleware(({ next }) => next({ input: { n: 41 } }));
const failing = t.middleware(() => {
  throw new TRPCError({ code: 'FORBIDDEN', message: 'no' });
});
const unwrapping = t.middleware(async ({ next }) => {
  const result = await next();
  return result.ok
    ? result
    : {
        ...result,
        error: new TRPCError({ code: 'CONFLICT', message: 'rewrapped', cause: result.error }),
      };
});
const forgetful = t.middleware(async ({ next }) => {
  await next();
  return undefined as never;
});

const procedures: Record<string, AnyProcedure> = {
  ctxMerge: t.procedure
    .use(withUser)
    .use(recordMeta)
    .meta({ tag: 'm' })
    .query(({ ctx }) => ({ user: ctx.user, extra: ctx.extra, trail: ctx.trail })),
  input: t.procedure.input(numberInput).query(({ input }) => input.n + 1),
  inputSwapped: t.procedure
    .use(swapInput)
    .input(numberInput)
    .query(({ input }) => input.n + 1),
  rawInput: t.procedure
    .use(async ({ getRawInput, next }) =>
      next({ getRawInput: async () => ({ n: Number(await getRawInput()) * 2 }) }),
    )
    .input(numberInput)
    .query(({ input }) => input.n),
  thrown: t.procedure.use(failing).query(() => 'never'),
  resolverThrows: t.procedure.query(() => {
    throw new Error('boom');
  }),
  rewrapped: t.procedure.use(unwrapping).query(() => {
    throw new TRPCError({ code: 'NOT_FOUND' });
  }),
  forgot: t.procedure.use(forgetful).query(() => 'lost'),
  mutation: t.procedure.input(stringInput).mutation(({ input }) => input.toUpperCase()),
};

const RAW_INPUTS: Record<string, unknown> = {
  input: { n: 1 },
  inputSwapped: { n: 'not a number' },
  rawInput: 21,
  mutation: 'loud',
};

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { data: await run() };
  } catch (error) {
    const e = error as TRPCError;
    return { code: e.code, message: e.message, name: e.name, cause: e.cause?.constructor.name };
  }
}

describe('the lean middleware runner', () => {
  test.each(Object.keys(procedures))('%s: same data or error as tRPC runs it', async (name) => {
    const procedure = procedures[name] as AnyProcedure;
    const signal = new AbortController().signal;
    const options = () => ({
      path: name,
      ctx: { user: null, trail: [] } as Ctx,
      type: procedure._def.type as 'query' | 'mutation',
      getRawInput: async () => RAW_INPUTS[name],
      batchIndex: 0,
    });
    expect(
      await outcome(() => callProcedureLean(procedure, { ...options(), signal: () => signal })),
    ).toEqual(await outcome(() => procedure({ ...options(), signal })));
  });

  test('a procedure of an unknown shape is called as tRPC ships it', async () => {
    const procedure = procedures.input as AnyProcedure;
    const odd = Object.assign(
      ((opts: Parameters<AnyProcedure>[0]) => procedure(opts)) as unknown as AnyProcedure,
      { _def: { ...procedure._def, middlewares: undefined } },
    );
    expect(
      await callProcedureLean(odd, {
        path: 'input',
        ctx: {},
        type: 'query',
        getRawInput: async () => ({ n: 2 }),
        signal: () => new AbortController().signal,
        batchIndex: 0,
      }),
    ).toBe(3);
  });

  test('the abort signal is built only for a call that reads it, and is the one the resolver sees', async () => {
    const controller = new AbortController();
    let built = 0;
    const signal = () => {
      built += 1;
      return controller.signal;
    };
    const base = {
      path: 'x',
      ctx: {},
      type: 'query' as const,
      getRawInput: async () => undefined,
      batchIndex: 0,
      signal,
    };
    await callProcedureLean(t.procedure.query(() => 'no signal read') as AnyProcedure, base);
    expect(built).toBe(0);
    const seen = await callProcedureLean(
      t.procedure
        .use(({ next }) => next())
        .query(({ signal: read }) => read === controller.signal) as AnyProcedure,
      base,
    );
    expect(seen).toBe(true);
  });
});
