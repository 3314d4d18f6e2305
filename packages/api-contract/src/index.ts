import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './root.js';

export { appRouter, createCaller, type AppRouter } from './root.js';
export type {
  Context,
  Principal,
  SessionPrincipal,
  ApiKeyPrincipal,
  RequestMeta,
  Role,
  Services,
  SessionCookieJar,
  DeviceCookieJar,
} from './context.js';
export { toWireError, type WireErrorData } from './errors.js';
export type { Access, Meta } from './trpc.js';
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export { sessionPrincipal } from './principal.js';
export { router, publicProcedure, tenantProcedure, sessionProcedure } from './trpc.js';
