import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { isUnauthorized } from '../../lib/api-errors.ts';
import { forgetSession } from '../../lib/query-client.ts';
import { trpc } from '../../lib/trpc.ts';

/**
 * Ends this session on the server, then drops every cached answer so nothing of this account
 * stays in the page. The route guard then shows the sign-in page.
 */
export function useSignOut() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const signedOut = () => {
    forgetSession(queryClient);
    // Straight to sign-in, in the same render as the cache change: the route guard would
    // otherwise remember this page and bring the next person to sign in back to it.
    void navigate('/sign-in', { replace: true });
  };
  const logout = trpc.auth.logout.useMutation({
    onSuccess: signedOut,
    onError: (error) => {
      // Already signed out (revoked elsewhere, expired): the outcome the user asked for.
      if (isUnauthorized(error)) signedOut();
    },
  });
  return {
    signOut: () => logout.mutate(),
    isPending: logout.isPending,
    error: logout.error && !isUnauthorized(logout.error) ? logout.error : null,
  };
}
