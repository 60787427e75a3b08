import { MutationCache, QueryCache, QueryClient, hashKey, type Query } from '@tanstack/react-query';
import { getQueryKey } from '@trpc/react-query';
import { apiErrorCode, isUnauthorized } from './api-errors.ts';
import { trpc } from './trpc.ts';

/** The cache key of `auth.me`, the query every route guard reads. */
export function meQueryKey() {
  return getQueryKey(trpc.auth.me, undefined, 'query');
}

function isMeQuery(query: Query): boolean {
  return query.queryHash === hashKey(meQueryKey());
}

/**
 * Forgets everything cached for the signed-in user and records "signed out" as the answer to
 * `auth.me`, so the route guards send the page to sign-in. The `me` query itself is kept (only its
 * data changes) so components observing it re-render at once.
 */
export function forgetSession(queryClient: QueryClient): void {
  void queryClient.cancelQueries({ predicate: (query) => !isMeQuery(query) });
  queryClient.removeQueries({ predicate: (query) => !isMeQuery(query) });
  queryClient.getMutationCache().clear();
  queryClient.setQueryData(meQueryKey(), null);
}

/**
 * The app's query client. Any call answered UNAUTHORIZED means the session ended elsewhere (revoked
 * from another device, expired, or the password changed), so the page forgets it and signs out.
 */
export function createQueryClient(): QueryClient {
  const onError = (error: unknown) => {
    // Only a session we believed in can end; a refused sign-in is the form's business.
    if (!isUnauthorized(error) || !queryClient.getQueryData(meQueryKey())) return;
    // Deferred: this runs inside the failing call's own bookkeeping.
    setTimeout(() => forgetSession(queryClient), 0);
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        // Retrying cannot fix a refused call, only a failed connection.
        retry: (failureCount, error) => apiErrorCode(error) === null && failureCount < 2,
        staleTime: 15_000,
        refetchOnWindowFocus: true,
      },
      // A mutation's variables can hold passwords: drop them as soon as no form shows the result.
      mutations: { retry: false, gcTime: 0 },
    },
  });
  return queryClient;
}
