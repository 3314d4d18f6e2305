/**
 * The console's only way to the API (docs/contributing.md convention 18): same-origin `/trpc`, plain JSON, the
 * httpOnly session cookie rides along by itself (nothing is kept in localStorage). Types come from
 * `import type { AppRouter }` only, so no server code reaches the bundle.
 *
 * TanStack Query drives caching; the vanilla client does the calls. (`@trpc/tanstack-react-query`
 * stops at 11.22.1 and pins `@trpc/server` to that exact version, while the server runs 11.25.x.)
 */
import type { AppRouter, RouterInputs, RouterOutputs } from '@tessera/api-contract';
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, type TRPCLink } from '@trpc/client';
import { isRetryable } from './errors';
import { noteError } from './enrollment';

// The server caps a batch at 10 calls (docs/design.md "Requests").
const links: TRPCLink<AppRouter>[] = [httpBatchLink({ url: '/trpc', maxItems: 10 })];

export const api = createTRPCClient<AppRouter>({ links });

export type Inputs = RouterInputs;
export type Outputs = RouterOutputs;

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: (error) => noteError(error) }),
  mutationCache: new MutationCache({ onError: (error) => noteError(error) }),
  defaultOptions: {
    queries: {
      retry: (count, error) => count < 2 && isRetryable(error),
      refetchOnWindowFocus: false,
      staleTime: 10_000,
    },
    mutations: { retry: false },
  },
});
