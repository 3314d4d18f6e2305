/** Who is signed in (auth.me); `null` when the session cookie is absent or expired. */
import { useQuery } from '@tanstack/react-query';
import { isUnauthenticated } from './errors';
import { api, queryClient, type Outputs } from './trpc';

export type Me = Outputs['auth']['me'];
export type Role = Me['user']['role'];
/** A permission of the vocabulary (docs/roles.md). */
export type Permission = Me['permissions'][number];

export const ME_KEY = ['auth.me'] as const;

export function useMe(): { me: Me | null; loading: boolean; error: unknown } {
  const query = useQuery({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return await api.auth.me.query();
      } catch (error) {
        if (isUnauthenticated(error)) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
  return { me: query.data ?? null, loading: query.isPending, error: query.error };
}

/** After sign-in or sign-out: forget every cached answer (another user's data) and ask again. */
export async function refreshSession(): Promise<void> {
  await queryClient.resetQueries();
}

/** After a change to the same user's session (MFA on/off): refetch, keeping what is on screen. */
export async function reloadSession(): Promise<void> {
  await queryClient.invalidateQueries();
}

export function hasRole(me: Me | null, roles: readonly Role[]): boolean {
  return me !== null && roles.includes(me.user.role);
}

/** Only same-site paths are followed after sign-in (no open redirect through `?next=`). */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')
    ? next
    : '/';
}
