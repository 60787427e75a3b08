import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Card } from '../../components/card.tsx';
import { DesktopIcon, PhoneIcon } from '../../components/icons.tsx';
import { RelativeTime } from '../../components/relative-time.tsx';
import { EmptyState, ErrorAlert, SkeletonList } from '../../components/status.tsx';
import { errorMessage, isUnauthorized } from '../../lib/api-errors.ts';
import { forgetSession } from '../../lib/query-client.ts';
import { formatAbsolute, useNow } from '../../lib/time.ts';
import { trpc } from '../../lib/trpc.ts';
import { describeUserAgent } from './describe-user-agent.ts';

/**
 * The account's sessions, newest activity first with this device on top, kept current live:
 * `auth.sessions.onChange` fires on every sign-in, sign-out and revocation, and the list refetches.
 */
export function SessionsSection() {
  const queryClient = useQueryClient();
  const utils = trpc.useUtils();
  const now = useNow();
  const sessions = trpc.auth.sessions.list.useQuery();
  const [revokeError, setRevokeError] = useState<string | null>(null);

  trpc.auth.sessions.onChange.useSubscription(undefined, {
    // Also on (re)connecting: changes made while the socket was down were not pushed.
    onStarted: () => void utils.auth.sessions.list.invalidate(),
    onData: () => void utils.auth.sessions.list.invalidate(),
    onError: (error) => {
      if (isUnauthorized(error)) forgetSession(queryClient);
    },
  });

  const revoke = trpc.auth.sessions.revoke.useMutation({
    onMutate: () => setRevokeError(null),
    onSuccess: () => utils.auth.sessions.list.invalidate(),
    onError: (error) => {
      // Already gone (revoked from elsewhere at the same moment): the list just needs refreshing.
      if (error.data?.code === 'NOT_FOUND') void utils.auth.sessions.list.invalidate();
      else setRevokeError(errorMessage(error));
    },
  });

  const rows = [...(sessions.data ?? [])]
    .sort(
      (a, b) =>
        Number(b.current) - Number(a.current) || b.lastSeenAt.getTime() - a.lastSeenAt.getTime(),
    )
    .map((session) => ({ ...session, device: describeUserAgent(session.userAgent) }));
  const labelCounts = new Map<string, number>();
  for (const row of rows)
    labelCounts.set(row.device.label, (labelCounts.get(row.device.label) ?? 0) + 1);

  return (
    <Card
      title="Sessions"
      description="Where your account is signed in. Revoke any session you do not recognise: it is signed out at once."
    >
      {revokeError && <ErrorAlert>{revokeError}</ErrorAlert>}
      {sessions.isPending ? (
        <SkeletonList label="Loading sessions" />
      ) : sessions.error && !sessions.data ? (
        <ErrorAlert onRetry={() => void sessions.refetch()}>
          Could not load your sessions. {errorMessage(sessions.error)}
        </ErrorAlert>
      ) : rows.length === 0 ? (
        <EmptyState icon={<DesktopIcon />} title="No active sessions" headingLevel={3}>
          <p>No device is signed in to this account.</p>
        </EmptyState>
      ) : (
        <ul className="session-list">
          {rows.map((session) => {
            const Icon = session.device.mobile ? PhoneIcon : DesktopIcon;
            // Two sessions from the same kind of browser need more than that to tell them apart.
            const name =
              (labelCounts.get(session.device.label) ?? 0) > 1
                ? `${session.device.label}, signed in ${formatAbsolute(session.createdAt)}`
                : session.device.label;
            const revoking = revoke.isPending && revoke.variables?.id === session.id;
            return (
              <li key={session.id} className="session">
                <span className="session-icon">
                  <Icon />
                </span>
                <div className="session-body">
                  <p className="session-name">
                    {session.device.label}
                    {session.current && <span className="badge">This device</span>}
                  </p>
                  <dl className="session-meta">
                    <div>
                      <dt>Signed in</dt>
                      <dd>
                        <RelativeTime date={session.createdAt} now={now} />
                      </dd>
                    </div>
                    <div>
                      <dt>Last seen</dt>
                      <dd>
                        {session.current ? (
                          'Now'
                        ) : (
                          <RelativeTime date={session.lastSeenAt} now={now} />
                        )}
                      </dd>
                    </div>
                  </dl>
                </div>
                {!session.current && (
                  <button
                    type="button"
                    className="btn btn-danger btn-small session-action"
                    aria-label={`Revoke session ${name}`}
                    aria-disabled={revoking || undefined}
                    onClick={() => {
                      if (!revoking) revoke.mutate({ id: session.id });
                    }}
                  >
                    {revoking && <span className="spinner spinner-small" aria-hidden="true" />}
                    Revoke
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}
