import { trpc } from '../../lib/trpc.ts';

/** The signed-in user, as `auth.me` reports it. */
export interface SessionUser {
  id: string;
  username: string;
}

/**
 * Who is signed in, from `auth.me`. The session is an HttpOnly cookie the page cannot read, so
 * asking the server is the only way to know, and is what makes a reload keep the user signed in.
 */
export function useSession() {
  const me = trpc.auth.me.useQuery(undefined, { staleTime: 60_000 });
  return {
    /** The user, or null when signed out (or not yet known). */
    user: (me.data ?? null) as SessionUser | null,
    /** True until the first answer arrives. */
    isPending: me.isPending,
    /** Set when the server could not be asked and there is no earlier answer to fall back on. */
    error: me.data === undefined ? me.error : null,
    refetch: me.refetch,
  };
}
