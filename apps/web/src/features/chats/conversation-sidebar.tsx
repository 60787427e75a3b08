import { IconButton } from '../../components/icon-button.tsx';
import { useDeferredValue, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, NavLink } from 'react-router';
import type { ChatMessage, ConversationSummary } from '@securechat/client';
import { searchWords } from '@securechat/client';
import {
  BellIcon,
  BellOffIcon,
  ChatsIcon,
  PlusIcon,
  SearchIcon,
  UsersIcon,
} from '../../components/icons.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { EmptyState, ErrorAlert, SkeletonList } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { formatAbsolute, formatRelative, useNow } from '../../lib/time.ts';
import { usePageVisible } from '../../lib/use-page-visible.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { mutedUntil, useLocalPrefs } from '../e2ee/local-prefs.ts';
import { notificationPermission, requestNotificationPermission } from '../e2ee/notifications.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { ConversationAvatar } from './avatar.tsx';
import { NewConversationDialog, NewGroupDialog } from './new-conversation-dialogs.tsx';
import { clockTime } from './timeline.ts';
import { useOutbox } from './outbox.ts';
import { useConversations, usePresence } from './use-conversations.ts';
import { calendarCardSummary } from '../calendar/event-card.tsx';

/**
 * What the list shows under a conversation's name; `unsent` says whether its last message, one of
 * this device's that the server does not have yet, is on its way or failed.
 */
export function previewText(
  conversation: ConversationSummary,
  meId: string,
  sending: (messageId: string) => boolean,
): { text: string; muted: boolean; unsent?: 'Sending…' | 'Not sent' } {
  const message = conversation.lastMessage;
  if (!message) return { text: 'End-to-end encrypted', muted: true };
  if (message.deleted) return { text: 'Message deleted', muted: true };
  if (message.undecryptable) return { text: 'Could not decrypt on this device', muted: true };
  const who =
    message.sender.id === meId
      ? 'You: '
      : conversation.kind === 'group'
        ? `${message.sender.username}: `
        : '';
  const file = message.calendar
    ? calendarCardSummary(message.calendar)
    : message.file
      ? `📎 ${message.file.name}`
      : 'Attachment';
  const text = `${who}${message.text || file}`;
  if (message.seq !== null) return { text, muted: false };
  return { text, muted: false, unsent: sending(message.id) ? 'Sending…' : 'Not sent' };
}

function otherMember(conversation: ConversationSummary, meId: string) {
  return conversation.kind === 'direct'
    ? conversation.members.find((m) => m.id !== meId)
    : undefined;
}

function ConversationLink({
  conversation,
  online,
  now,
}: {
  conversation: ConversationSummary;
  online: boolean;
  now: number;
}) {
  const { user, outbox } = useReadyE2ee();
  const entries = useOutbox(outbox);
  const visible = usePageVisible();
  const [prefs] = useLocalPrefs(user.id);
  const muted = mutedUntil(prefs, conversation.id, now) !== null;
  const preview = previewText(conversation, user.id, (id) => entries.get(id)?.status === 'sending');
  const when = conversation.lastMessage?.sentAt ?? conversation.lastActivityAt;
  return (
    <NavLink to={`/c/${conversation.id}`} className="conversation-link">
      {({ isActive }) => {
        // The conversation on screen is being read: its newest messages are marked read as they
        // arrive, so no badge flashes while the server catches up.
        const unread = isActive && visible ? 0 : conversation.unread;
        return (
          <>
            <ConversationAvatar conversation={conversation} online={online} />
            <span className="conversation-body">
              <span className="conversation-top">
                <span className="conversation-title">{conversation.title}</span>
                {online && <span className="sr-only">, online</span>}
                {muted && (
                  <span className="conversation-muted" title="Notifications muted">
                    <BellOffIcon width={14} height={14} />
                    <span className="sr-only">, muted</span>
                  </span>
                )}
                <time
                  className="conversation-time"
                  dateTime={when.toISOString()}
                  title={formatAbsolute(when)}
                >
                  {now - when.getTime() < 86_400_000 ? clockTime(when) : formatRelative(when, now)}
                </time>
              </span>
              <span className="conversation-bottom">
                <span className={`conversation-preview${preview.muted ? ' muted' : ''}`}>
                  {preview.unsent && (
                    <span
                      className={`preview-unsent${preview.unsent === 'Not sent' ? ' failed' : ''}`}
                    >
                      {preview.unsent}:{' '}
                    </span>
                  )}
                  {preview.text}
                </span>
                {unread > 0 && (
                  <span className={`unread-badge${muted ? ' unread-badge-muted' : ''}`}>
                    <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
                    <span className="sr-only">
                      , {unread} unread {unread === 1 ? 'message' : 'messages'}
                    </span>
                  </span>
                )}
              </span>
            </span>
          </>
        );
      }}
    </NavLink>
  );
}

function ConversationList({ onNew }: { onNew: () => void }) {
  const { user } = useReadyE2ee();
  const conversations = useConversations();
  const now = useNow();
  const items = conversations.data?.items ?? [];
  const others = items.flatMap((c) => {
    const other = otherMember(c, user.id);
    return other ? [other.id] : [];
  });
  const presence = usePresence(others);

  if (conversations.isPending) return <SkeletonList label="Loading conversations" rows={4} />;
  if (conversations.error && !conversations.data) {
    return (
      <div className="sidebar-message">
        <ErrorAlert onRetry={() => void conversations.refetch()}>
          Could not load your conversations. {errorMessage(conversations.error)}
        </ErrorAlert>
      </div>
    );
  }
  if (items.length === 0) {
    return (
      <EmptyState icon={<ChatsIcon width={28} height={28} />} title="No conversations yet">
        <p>
          Start one with anyone on this server by their username. Everything you write is encrypted
          on this device first.
        </p>
        <p>
          <button type="button" className="btn btn-primary" onClick={onNew}>
            New conversation
          </button>
        </p>
      </EmptyState>
    );
  }
  return (
    <nav aria-label="Conversations" className="conversation-nav">
      {conversations.data?.offline && (
        <p className="offline-note" role="status">
          Offline: showing the conversations saved on this device.
        </p>
      )}
      <ul className="conversation-list">
        {items.map((conversation) => {
          const other = otherMember(conversation, user.id);
          return (
            <li key={conversation.id}>
              <ConversationLink
                conversation={conversation}
                online={other ? (presence.get(other.id) ?? false) : false}
                now={now}
              />
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** The text with the words that match the search marked. */
function Highlighted({ text, query }: { text: string; query: string }) {
  const words = searchWords(query);
  if (words.length === 0) return <>{text}</>;
  const parts = text.split(/([\p{L}\p{N}]+)/u);
  return (
    <>
      {parts.map((part, i) => {
        const folded = part
          .normalize('NFKD')
          .replace(/\p{M}+/gu, '')
          .toLowerCase();
        return words.some((w) => folded.startsWith(w)) ? <mark key={i}>{part}</mark> : part;
      })}
    </>
  );
}

function SearchResults({ query }: { query: string }) {
  const { client, user } = useReadyE2ee();
  const conversations = useConversations();
  const now = useNow();
  const results = useQuery({
    queryKey: e2eeKeys.search(user.id, query),
    queryFn: () => client.localHistory.search(query, { limit: 50 }),
    staleTime: 10_000,
  });
  const titleOf = (message: ChatMessage) =>
    conversations.data?.items.find((c) => c.id === message.conversationId)?.title ?? 'Conversation';

  return (
    <section className="search-results" aria-label="Search results">
      <p className="search-scope">
        Search covers the messages this browser has decrypted and kept; the server cannot search
        encrypted messages.
      </p>
      {results.isPending ? (
        <SkeletonList label="Searching" rows={2} />
      ) : results.error ? (
        <ErrorAlert onRetry={() => void results.refetch()}>
          {errorMessage(results.error)}
        </ErrorAlert>
      ) : results.data.length === 0 ? (
        <p className="search-empty" role="status">
          No messages on this device match “{query}”.
        </p>
      ) : (
        <>
          <p className="sr-only" role="status">
            {results.data.length} {results.data.length === 1 ? 'message' : 'messages'} found
          </p>
          <ul className="search-list">
            {results.data.map((message) => (
              <li key={`${message.conversationId}-${message.id}`}>
                <Link
                  to={`/c/${message.conversationId}?message=${message.id}`}
                  className="search-result"
                >
                  <span className="search-result-top">
                    <span className="search-result-where">
                      {message.sender.id === user.id ? 'You' : message.sender.username} in{' '}
                      {titleOf(message)}
                    </span>
                    <time
                      dateTime={message.sentAt.toISOString()}
                      title={formatAbsolute(message.sentAt)}
                    >
                      {formatRelative(message.sentAt, now)}
                    </time>
                  </span>
                  <span className="search-result-text">
                    <Highlighted text={message.text} query={query} />
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** Asks for notification permission in context, once, with a way to say no. */
function NotificationPrompt() {
  const { user } = useReadyE2ee();
  const [prefs, setPrefs] = useLocalPrefs(user.id);
  const [permission, setPermission] = useState(notificationPermission);
  if (permission !== 'default' || prefs.notificationPromptDismissed) return null;
  return (
    <div className="prompt-bar" role="region" aria-label="Notifications">
      <BellIcon className="prompt-icon" />
      <p>
        Get a desktop notification when a message arrives while SecureChat is in the background.
      </p>
      <div className="prompt-actions">
        <button
          type="button"
          className="btn btn-primary btn-small"
          onClick={() =>
            void requestNotificationPermission().then((result) => {
              setPermission(result);
              if (result === 'granted') setPrefs({ notifications: true });
            })
          }
        >
          Turn on notifications
        </button>
        <button
          type="button"
          className="btn btn-secondary btn-small"
          onClick={() => setPrefs({ notificationPromptDismissed: true })}
        >
          Not now
        </button>
      </div>
    </div>
  );
}

/** The left column: the list of conversations (or search results) and the ways to start one. */
export function ConversationSidebar({ documentTitle }: { documentTitle: string }) {
  const { streamProblem } = useReadyE2ee();
  const [search, setSearch] = useState('');
  const query = useDeferredValue(search.trim());
  const [dialog, setDialog] = useState<'direct' | 'group' | null>(null);
  return (
    <section className="chats-sidebar" aria-label="Chats">
      <div className="sidebar-header">
        <PageHeading title="Chats" documentTitle={documentTitle} focusOnNavigate={false} />
        <div className="sidebar-actions">
          <IconButton label="New conversation" onClick={() => setDialog('direct')}>
            <PlusIcon />
          </IconButton>
          <IconButton label="New group" onClick={() => setDialog('group')}>
            <UsersIcon />
          </IconButton>
        </div>
      </div>
      <div className="sidebar-search">
        <SearchIcon className="sidebar-search-icon" />
        <input
          type="search"
          className="sidebar-search-input"
          aria-label="Search messages"
          placeholder="Search messages"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') setSearch('');
          }}
        />
      </div>
      <NotificationPrompt />
      {streamProblem && (
        <p className="offline-note offline-note-sidebar" role="status">
          {streamProblem}
        </p>
      )}
      <div className="sidebar-scroll">
        {query ? (
          <SearchResults query={query} />
        ) : (
          <ConversationList onNew={() => setDialog('direct')} />
        )}
      </div>
      <NewConversationDialog open={dialog === 'direct'} onClose={() => setDialog(null)} />
      <NewGroupDialog open={dialog === 'group'} onClose={() => setDialog(null)} />
    </section>
  );
}
