import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient, type QueryClient, type QueryKey } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import {
  DeviceNotSetUpError,
  EncryptingKeyStore,
  IdentityChangedError,
  IndexedDbKeyStore,
  apiErrorCode,
  createClient,
  type ClientEvent,
  type ConversationSummary,
  type SecureChatClient,
} from '@securechat/client';
import { errorMessage, isUnauthorized } from '../../lib/api-errors.ts';
import { forgetSession } from '../../lib/query-client.ts';
import { isCarriedAlong } from '../chats/timeline.ts';
import { withArrivedMessage } from '../chats/conversation-list.ts';
import { Outbox } from '../chats/outbox.ts';
import type { SessionUser } from '../auth/use-session.ts';
import { describeUserAgent } from '../settings/describe-user-agent.ts';
import { E2eeContext, type E2eeState, type IdentityAlert } from './e2ee-context.ts';
import { cryptoUnsupportedReason } from './environment.ts';
import { mutedUntil, readLocalPrefs } from './local-prefs.ts';
import { showMessageNotification } from './notifications.ts';
import { e2eeKeys } from './query-keys.ts';
import { useTabLock } from './tab-lock.ts';
import { TypingStore } from './typing-store.ts';

/** The conversation list as the chat screens cache it (see use-conversations.ts). */
export interface ConversationsData {
  items: ConversationSummary[];
  /** Why the list comes from this device's cache instead of the server, or null. */
  offline: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Coalesces invalidations: a burst of events (a backlog after reconnecting) refetches each query
 * once, not once per event.
 */
function createInvalidator(queryClient: QueryClient) {
  const pending = new Map<string, QueryKey>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  return (key: QueryKey) => {
    pending.set(JSON.stringify(key), key);
    timer ??= setTimeout(() => {
      timer = null;
      const keys = [...pending.values()];
      pending.clear();
      for (const queryKey of keys) void queryClient.invalidateQueries({ queryKey });
    }, 60);
  };
}

/**
 * The end-to-end side of a signed-in user: one SecureChatClient for this tab (keys in IndexedDB,
 * with decrypted history sealed under this browser's device key), the device's setup state, and
 * the live stream of decrypted events, which keeps React Query's caches current.
 */
export function E2eeProvider({ user, children }: { user: SessionUser; children: ReactNode }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  // Read through a ref: the event stream must not restart because a callback identity changed.
  const navigateRef = useRef(navigate);
  useEffect(() => {
    navigateRef.current = navigate;
  }, [navigate]);
  const [unsupported] = useState(cryptoUnsupportedReason);
  const { state: lock, takeOver } = useTabLock(`securechat-device-${user.id}`);
  const [client, setClient] = useState<SecureChatClient | null>(null);
  const [pendingRecoveryKey, setPendingRecoveryKey] = useState<string | null>(null);
  const [identityAlerts, setIdentityAlerts] = useState<IdentityAlert[]>([]);
  const [streamProblem, setStreamProblem] = useState<string | null>(null);
  const [typing] = useState(() => new TypingStore());
  // Outlives the pages, so a message still sending keeps its state wherever the user goes.
  const [outbox] = useState(() => new Outbox());
  const listeners = useRef(new Set<(event: ClientEvent) => void>());
  const canRun = !unsupported && (lock === 'held' || lock === 'unsupported');

  useEffect(() => {
    if (!canRun) return;
    const idb = new IndexedDbKeyStore('securechat');
    const created = createClient({
      keyStore: new EncryptingKeyStore(idb),
      deviceName: describeUserAgent(navigator.userAgent).label,
    });
    // The client is made here, not during render, so it is closed exactly once when this tab
    // signs out or hands the keys to another tab.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setClient(created);
    return () => {
      created.close();
      void idb.close();
      setClient(null);
    };
  }, [canRun, user.id]);

  const statusQuery = useQuery({
    queryKey: e2eeKeys.status(user.id),
    queryFn: () => client!.devices.status(),
    enabled: client !== null,
    staleTime: Infinity,
  });
  // Without a client (another tab holds the keys, or it is being made) nothing is ready yet,
  // whatever the cached answer says.
  const status: E2eeState['status'] = !client
    ? 'checking'
    : (statusQuery.data ?? (statusQuery.isError ? 'error' : 'checking'));

  const addIdentityAlert = useCallback((alert: IdentityAlert) => {
    setIdentityAlerts((current) =>
      current.some((a) => a.userId === alert.userId && a.verified === alert.verified)
        ? current
        : [...current.filter((a) => a.userId !== alert.userId), alert],
    );
  }, []);

  // Shows the conversation list saved on this device at once, before the server answers.
  useEffect(() => {
    if (!client || status !== 'ready') return;
    const key = e2eeKeys.conversations(user.id);
    void client.localHistory
      .conversations()
      .then((items) => {
        if (items && queryClient.getQueryData(key) === undefined) {
          queryClient.setQueryData<ConversationsData>(
            key,
            { items, offline: null },
            { updatedAt: 0 },
          );
        }
      })
      .catch(() => {});
  }, [client, status, queryClient, user.id]);

  // The live event stream: decrypted events invalidate what they change. It reconnects by
  // itself; when it fails outright, it is started again after a growing pause.
  useEffect(() => {
    if (!client || status !== 'ready') return;
    const invalidate = createInvalidator(queryClient);
    const conversationsKey = e2eeKeys.conversations(user.id);

    function notify(event: Extract<ClientEvent, { type: 'message' }>) {
      const message = event.message;
      if (message.sender.id === user.id || document.visibilityState !== 'hidden') return;
      if (isCarriedAlong(message)) return;
      const prefs = readLocalPrefs(user.id);
      if (!prefs.notifications) return;
      if (mutedUntil(prefs, message.conversationId, Date.now()) !== null) return;
      const conversations = queryClient.getQueryData<ConversationsData>(conversationsKey);
      const conversation = conversations?.items.find((c) => c.id === message.conversationId);
      showMessageNotification({
        conversationTitle: conversation?.title ?? message.sender.username,
        sender: message.sender.username,
        text: prefs.notificationPreviews
          ? message.text ||
            (message.calendar
              ? `📅 ${message.calendar.title}`
              : message.file
                ? `📎 ${message.file.name}`
                : '')
          : null,
        conversationId: message.conversationId,
        onClick: () => void navigateRef.current(`/c/${message.conversationId}`),
      });
    }

    function handle(event: ClientEvent) {
      switch (event.type) {
        case 'message':
          typing.stopped(event.message.conversationId, event.message.sender.id);
          invalidate(e2eeKeys.messages(user.id, event.message.conversationId));
          queryClient.setQueryData<ConversationsData>(
            conversationsKey,
            (data) => data && withArrivedMessage(data, event.message, user.id),
          );
          invalidate(conversationsKey);
          notify(event);
          break;
        case 'message.edited':
        case 'reaction':
        case 'message.deleted':
        case 'decryption-failure':
        case 'messages-missing':
          invalidate(e2eeKeys.messages(user.id, event.conversationId));
          invalidate(conversationsKey);
          break;
        case 'conversation.title':
        case 'membership':
        case 'read':
          invalidate(conversationsKey);
          break;
        case 'typing':
          if (event.userId !== user.id) typing.typing(event.conversationId, event.userId);
          break;
        case 'presence':
          invalidate(e2eeKeys.presence(user.id));
          break;
        case 'identity-changed':
          addIdentityAlert({ userId: event.userId, verified: event.verified });
          invalidate(e2eeKeys.contact(user.id, event.userId));
          break;
      }
      for (const listener of listeners.current) listener(event);
    }

    let stopped = false;
    let iterator: AsyncIterableIterator<ClientEvent> | null = null;
    void (async () => {
      let pause = 1_000;
      while (!stopped) {
        iterator = client.events();
        try {
          // Anything that happened while no stream was open is fetched again.
          invalidate(conversationsKey);
          for await (const event of iterator) {
            pause = 1_000;
            setStreamProblem(null);
            handle(event);
          }
        } catch (error) {
          if (stopped) return;
          if (isUnauthorized(error)) {
            forgetSession(queryClient);
            return;
          }
          if (
            error instanceof DeviceNotSetUpError ||
            apiErrorCode(error) === 'PRECONDITION_FAILED'
          ) {
            // The device was revoked (an identity reset elsewhere): ask where it stands.
            void queryClient.invalidateQueries({ queryKey: e2eeKeys.status(user.id) });
            return;
          }
          if (error instanceof IdentityChangedError) {
            addIdentityAlert({ userId: error.userId, verified: error.verified });
          }
          setStreamProblem(
            error instanceof IdentityChangedError
              ? 'Live updates are paused until you review a contact’s new safety number.'
              : `Live updates stopped: ${errorMessage(error)} Retrying…`,
          );
        }
        if (stopped) return;
        await sleep(pause);
        pause = Math.min(pause * 2, 30_000);
      }
    })();
    return () => {
      stopped = true;
      void iterator?.return?.();
    };
  }, [client, status, queryClient, user.id, typing, addIdentityAlert]);

  const value = useMemo<E2eeState>(
    () => ({
      user,
      unsupported,
      lock,
      takeOverTab: takeOver,
      client,
      status,
      statusError: statusQuery.error,
      recheckStatus: () =>
        void queryClient.invalidateQueries({ queryKey: e2eeKeys.status(user.id) }),
      pendingRecoveryKey,
      setPendingRecoveryKey,
      markReady: () => queryClient.setQueryData(e2eeKeys.status(user.id), 'ready'),
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
      typing,
      outbox,
      identityAlerts,
      dismissIdentityAlert: (userId) =>
        setIdentityAlerts((current) => current.filter((a) => a.userId !== userId)),
      streamProblem,
    }),
    [
      user,
      unsupported,
      lock,
      takeOver,
      client,
      status,
      statusQuery.error,
      queryClient,
      pendingRecoveryKey,
      typing,
      outbox,
      identityAlerts,
      streamProblem,
    ],
  );

  return <E2eeContext.Provider value={value}>{children}</E2eeContext.Provider>;
}
