import { Navigate, Outlet, useLocation } from 'react-router';
import { AppShell } from '../../components/app-shell.tsx';
import { FullPageError, FullPageLoading } from '../../components/full-page.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { CalendarLive } from '../calendar/use-calendar.ts';
import { ResendUnsent } from '../chats/resend-unsent.tsx';
import { UnreadTitleCount } from '../chats/unread-title-count.tsx';
import { E2eeProvider } from '../e2ee/e2ee-provider.tsx';
import { useSession } from './use-session.ts';

interface FromState {
  from?: unknown;
}

/** Where to go after signing in: the page that sent the user to sign-in, if it is one of ours. */
function returnPath(state: unknown): string {
  const from = (state as FromState | null)?.from;
  // Only same-app paths: "//host" would leave the site.
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') ? from : '/';
}

/** Pages for signed-in users: everyone else goes to sign-in, and comes back here afterwards. */
export function RequireSession() {
  const { user, isPending, error, refetch } = useSession();
  const location = useLocation();
  if (isPending) return <FullPageLoading label="Loading your session" />;
  if (error) return <FullPageError message={errorMessage(error)} onRetry={() => void refetch()} />;
  if (!user) {
    return (
      <Navigate
        to="/sign-in"
        replace
        state={
          { from: `${location.pathname}${location.search}${location.hash}` } satisfies FromState
        }
      />
    );
  }
  return (
    // Keyed by user: another account in this tab gets its own client, keys and caches.
    <E2eeProvider key={user.id} user={user}>
      <AppShell user={user}>
        <CalendarLive />
        <ResendUnsent />
        <UnreadTitleCount />
        <Outlet />
      </AppShell>
    </E2eeProvider>
  );
}

/** Sign-in and registration: a signed-in user has no business there and goes on into the app. */
export function RequireGuest() {
  const { user, isPending, error, refetch } = useSession();
  const location = useLocation();
  if (isPending) return <FullPageLoading label="Loading your session" />;
  if (error) return <FullPageError message={errorMessage(error)} onRetry={() => void refetch()} />;
  if (user) return <Navigate to={returnPath(location.state)} replace />;
  return <Outlet />;
}
