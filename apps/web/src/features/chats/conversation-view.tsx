import { IconButton } from '../../components/icon-button.tsx';
import { useCallback, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { usePageVisible } from '../../lib/use-page-visible.ts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import {
  IdentityChangedError,
  newMessageId,
  type ChatMessage,
  type ConversationSummary,
} from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { useDisclosure } from '../../components/use-disclosure.ts';
import {
  BellIcon,
  BellOffIcon,
  CalendarIcon,
  FolderIcon,
  MoreIcon,
  AlertIcon,
  ArrowLeftIcon,
  ChatsIcon,
  LockIcon,
  ShieldIcon,
  TrashIcon,
  UsersIcon,
} from '../../components/icons.tsx';
import { EmptyState, ErrorAlert, LoadingState } from '../../components/status.tsx';
import { ActionButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useNow } from '../../lib/time.ts';
import { usePendingAction } from '../../lib/use-pending-action.ts';
import { trpc } from '../../lib/trpc.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { mutedUntil, useLocalPrefs, withMuted } from '../e2ee/local-prefs.ts';
import { e2eeKeys } from '../e2ee/query-keys.ts';
import { SafetyNumberDialog } from '../e2ee/safety-number-dialog.tsx';
import { useTypingUsers } from '../e2ee/typing-store.ts';
import { calendarCardSummary } from '../calendar/event-card.tsx';
import { ScheduleDialog } from '../calendar/schedule-dialog.tsx';
import { ConversationAvatar } from './avatar.tsx';
import { Composer, type ComposerHandle, type ComposerMode } from './composer.tsx';
import { FilesPanel, UploadList, fileErrorMessage, makeThumbnail, type Upload } from './files.tsx';
import { MembersDialog } from './members-dialog.tsx';
import { MessageList } from './message-list.tsx';
import { MessageRow, type DeliveryState, type MessageActions } from './message-row.tsx';
import { describeSendError, failureMayPass, useChangesWaiting, useOutbox } from './outbox.ts';
import {
  buildTimeline,
  clockTime,
  dayLabel,
  isCarriedAlong,
  type TimelineRow,
} from './timeline.ts';
import { useConversations, usePresence } from './use-conversations.ts';
import { useMessages } from './use-messages.ts';

/** Repeat "typing" at most this often while the user types. */
const TYPING_EVERY_MS = 3_000;

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function TypingIndicator({ conversation }: { conversation: ConversationSummary }) {
  const { typing, user } = useReadyE2ee();
  const settings = trpc.settings.get.useQuery();
  const ids = useTypingUsers(typing, conversation.id);
  // Reciprocal, as in Signal: who does not share their typing does not see others'.
  const names =
    settings.data?.sendTyping === false
      ? []
      : ids
          .filter((id) => id !== user.id)
          .map((id) => conversation.members.find((m) => m.id === id)?.username ?? 'Someone');
  return (
    <p className="typing-indicator" aria-live="polite">
      {names.length > 0 && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {listNames(names)} {names.length === 1 ? 'is' : 'are'} typing…
        </>
      )}
    </p>
  );
}

type ConversationDialog = 'members' | 'safety' | 'clear' | 'files' | 'schedule' | 'mute';

/** "Muted", "Muted until 17:30", "Muted until Mon 17:30", for a conversation muted until `until`. */
function mutedLabel(until: number | 'always', now: number): string {
  if (until === 'always') return 'Muted';
  const date = new Date(until);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const day = sameDay
    ? ''
    : `${date.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })} `;
  return `Muted until ${day}${clockTime(date)}`;
}

interface HeaderAction {
  /** The accessible name, also the text in the folded list. */
  label: string;
  /** The tooltip of the icon button (defaults to the label). */
  title?: string;
  icon: ReactNode;
  onClick: () => void;
}

/**
 * The conversation's actions: icon buttons where the header has room, and in a narrow header (a
 * phone, a small window beside the list) one "More options" button that opens them as a list (a
 * disclosure, see {@link useDisclosure}). A container query on the header shows one form or the
 * other.
 */
function HeaderActions({ actions }: { actions: HeaderAction[] }) {
  const { open, setOpen, rootRef, buttonRef, onBlur } = useDisclosure();
  const panelId = useId();
  return (
    <>
      <div className="conversation-header-actions">
        {actions.map((action) => (
          <IconButton
            key={action.label}
            label={action.label}
            title={action.title ?? action.label}
            onClick={action.onClick}
          >
            {action.icon}
          </IconButton>
        ))}
      </div>
      <div className="header-more" ref={rootRef} onBlur={onBlur}>
        <button
          ref={buttonRef}
          type="button"
          className="icon-button"
          aria-label="More options"
          title="More options"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((value) => !value)}
        >
          <MoreIcon />
        </button>
        <div id={panelId} className="popover header-more-panel" hidden={!open}>
          {actions.map((action) => (
            <button
              key={action.label}
              type="button"
              className="header-more-item"
              onClick={() => {
                // A dialog the action opens gives focus back to this button when it closes.
                buttonRef.current?.focus();
                setOpen(false);
                action.onClick();
              }}
            >
              {action.icon}
              {action.label}
            </button>
          ))}
        </div>
      </div>
    </>
  );
}

function ConversationHeader({
  conversation,
  online,
  muted,
  now,
  onOpen,
  onUnmute,
}: {
  conversation: ConversationSummary;
  online: boolean;
  /** Until when new messages here show no notification on this browser (null: they do). */
  muted: number | 'always' | null;
  now: number;
  onOpen: (dialog: ConversationDialog) => void;
  onUnmute: () => void;
}) {
  const { user } = useReadyE2ee();
  const other =
    conversation.kind === 'direct' ? conversation.members.find((m) => m.id !== user.id) : undefined;
  const subtitle =
    conversation.kind === 'notes'
      ? 'Only you: notes to yourself, end-to-end encrypted'
      : conversation.kind === 'group'
        ? `${conversation.members.length} members · end-to-end encrypted`
        : online
          ? 'Online · end-to-end encrypted'
          : 'End-to-end encrypted';
  return (
    <header className="conversation-header">
      <Link to="/" className="icon-button back-button" aria-label="Back to conversations">
        <ArrowLeftIcon />
      </Link>
      <ConversationAvatar conversation={conversation} online={online} />
      <div className="conversation-header-text">
        <h2 className="conversation-heading">{conversation.title}</h2>
        <p className="conversation-subtitle">
          <LockIcon width={14} height={14} />
          <span className="conversation-subtitle-text">
            {subtitle}
            {muted !== null && ` · ${mutedLabel(muted, now)}`}
          </span>
        </p>
      </div>
      <HeaderActions
        actions={[
          ...(conversation.kind === 'notes'
            ? []
            : [
                muted === null
                  ? {
                      label: 'Mute notifications',
                      icon: <BellIcon />,
                      onClick: () => onOpen('mute'),
                    }
                  : { label: 'Unmute notifications', icon: <BellOffIcon />, onClick: onUnmute },
              ]),
          {
            label: 'Schedule in this conversation',
            title: 'Schedule an event',
            icon: <CalendarIcon />,
            onClick: () => onOpen('schedule'),
          },
          {
            label: 'Files in this conversation',
            title: 'Files',
            icon: <FolderIcon />,
            onClick: () => onOpen('files'),
          },
          ...(other
            ? [
                {
                  label: `Safety number with ${other.username}`,
                  title: 'Safety number',
                  icon: <ShieldIcon />,
                  onClick: () => onOpen('safety'),
                },
              ]
            : []),
          ...(conversation.kind === 'group'
            ? [
                {
                  label: 'Group members',
                  title: 'Members',
                  icon: <UsersIcon />,
                  onClick: () => onOpen('members'),
                },
              ]
            : []),
          {
            label: 'Clear local history of this conversation',
            title: 'Clear local history',
            icon: <TrashIcon />,
            onClick: () => onOpen('clear'),
          },
        ]}
      />
    </header>
  );
}

function ConversationScreen({
  conversation,
  initialFocus,
}: {
  conversation: ConversationSummary;
  initialFocus: string | null;
}) {
  const { client, user, identityAlerts, dismissIdentityAlert, subscribe, outbox } = useReadyE2ee();
  const queryClient = useQueryClient();
  const entries = useOutbox(outbox);
  const changesWaiting = useChangesWaiting(outbox, conversation.id);
  const { query, paging, loadOlder } = useMessages(conversation.id);
  const offline = useConversations().data?.offline ?? null;
  // Back online after a failed page of history: ask again (once per reconnection).
  const wasOffline = useRef(offline);
  useEffect(() => {
    const reconnected = wasOffline.current !== null && offline === null;
    wasOffline.current = offline;
    if (reconnected && paging.error) void loadOlder();
  }, [offline, paging.error, loadOlder]);
  const settings = trpc.settings.get.useQuery();
  const now = useNow(60_000);
  const visible = usePageVisible();
  const composer = useRef<ComposerHandle>(null);
  const [mode, setMode] = useState<ComposerMode | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [bottomSignal, setBottomSignal] = useState(0);
  const [focusKey, setFocusKey] = useState<string | null>(initialFocus);
  // Counts requests to show a message, so asking again for the one already asked for (after
  // scrolling away from it) still brings it back.
  const [focusSignal, setFocusSignal] = useState(0);
  const jumpTo = useCallback((messageId: string) => {
    setFocusKey(messageId);
    setFocusSignal((n) => n + 1);
  }, []);
  const [requestedFocus, setRequestedFocus] = useState(initialFocus);
  if (initialFocus !== requestedFocus) {
    // Another search result in this same conversation.
    setRequestedFocus(initialFocus);
    setFocusKey(initialFocus);
  }
  const [dialog, setDialog] = useState<ConversationDialog | null>(null);
  const [prefs, setPrefs] = useLocalPrefs(user.id);
  const muted = mutedUntil(prefs, conversation.id, now);
  const setMuted = (until: number | null | 'off') =>
    setPrefs({ muted: withMuted(prefs, conversation.id, until, Date.now()) });
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const lastTyping = useRef(0);
  const markedSeq = useRef(0);
  const messagesKey = e2eeKeys.messages(user.id, conversation.id);

  const other =
    conversation.kind === 'direct' ? conversation.members.find((m) => m.id !== user.id) : undefined;
  const presence = usePresence(other ? [other.id] : []);
  const online = other ? (presence.get(other.id) ?? false) : false;
  const contactStatus = useQuery({
    queryKey: [...e2eeKeys.contact(user.id, other?.id ?? ''), 'status'],
    queryFn: () => client.contacts.status(other!.id),
    enabled: other !== undefined,
    staleTime: 30_000,
  });
  const blockedBy = other
    ? contactStatus.data?.identityChanged && contactStatus.data.verified
      ? other
      : identityAlerts.some((a) => a.userId === other.id && a.verified)
        ? other
        : undefined
    : undefined;

  const nameOf = useCallback(
    (userId: string) =>
      userId === user.id
        ? 'you'
        : (conversation.members.find((m) => m.id === userId)?.username ?? 'a former member'),
    [conversation.members, user.id],
  );

  // This device's history, plus messages still in the outbox that it has not stored yet.
  const messages = useMemo(() => {
    const stored = query.data?.messages ?? [];
    const ids = new Set(stored.map((m) => m.id));
    const pending: ChatMessage[] = [...entries.values()]
      .filter((e) => e.conversationId === conversation.id && !ids.has(e.id))
      .map((e) => ({
        id: e.id,
        seq: null,
        conversationId: e.conversationId,
        sender: { id: user.id, username: user.username },
        text: e.text,
        sentAt: e.sentAt,
        ...(e.replyTo ? { replyTo: e.replyTo } : {}),
        reactions: [],
        deleted: false,
        undecryptable: false,
      }));
    return [...stored, ...pending];
  }, [query.data, entries, conversation.id, user.id, user.username]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const rows = useMemo(
    () => buildTimeline(messages, query.data?.missing ?? []),
    [messages, query.data?.missing],
  );
  const lastFocusable = rows.findLastIndex((row) => row.kind !== 'day');
  // A message folded into another row (an occurrence card) is shown, and jumped to, as that row.
  const shownFocusKey = useMemo(() => {
    if (!focusKey) return focusKey;
    const host = rows.find(
      (row) => row.kind === 'message' && row.alongside?.some((m) => m.id === focusKey),
    );
    return host?.key ?? focusKey;
  }, [rows, focusKey]);

  // Announces new messages from others to screen readers (the list itself is not a live region).
  useEffect(
    () =>
      subscribe((event) => {
        if (
          event.type === 'message' &&
          event.message.conversationId === conversation.id &&
          event.message.sender.id !== user.id &&
          !isCarriedAlong(event.message)
        ) {
          setAnnouncement(
            `New message from ${event.message.sender.username}: ${
              event.message.calendar
                ? calendarCardSummary(event.message.calendar)
                : event.message.file
                  ? `file ${event.message.file.name}${event.message.text ? `, ${event.message.text}` : ''}`
                  : event.message.text
            }`,
          );
        }
      }),
    [subscribe, conversation.id, user.id],
  );

  // Marks the conversation read while it is on screen: the newest message is seen.
  const newest = [...messages].reverse().find((m) => m.seq !== null);
  useEffect(() => {
    if (!newest?.seq || !visible || newest.seq <= markedSeq.current) return;
    markedSeq.current = newest.seq;
    if (conversation.unread === 0 && newest.sender.id === user.id) return;
    client.messages
      .markRead(conversation.id, newest.id)
      .then(() => queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) }))
      .catch(() => {
        markedSeq.current = 0;
      });
  }, [
    newest?.id,
    newest?.seq,
    newest?.sender.id,
    visible,
    conversation.id,
    conversation.unread,
    client,
    queryClient,
    user.id,
  ]);

  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: messagesKey });
    void queryClient.invalidateQueries({ queryKey: e2eeKeys.conversations(user.id) });
    // messagesKey is derived from the ids listed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryClient, user.id, conversation.id]);

  const send = useCallback(
    async (text: string, replyTo: string | undefined, id: string = newMessageId()) => {
      setActionError(null);
      outbox.set({
        id,
        conversationId: conversation.id,
        text,
        ...(replyTo ? { replyTo } : {}),
        sentAt: new Date(),
        status: 'sending',
      });
      setBottomSignal((n) => n + 1);
      try {
        await client.messages.send(conversation.id, { text, id, ...(replyTo ? { replyTo } : {}) });
        outbox.delete(id);
      } catch (error) {
        outbox.update(id, {
          status: 'failed',
          error: describeSendError(error, nameOf),
          retryLater: failureMayPass(error),
        });
        if (error instanceof IdentityChangedError) void contactStatus.refetch();
      }
      refresh();
    },
    [client, conversation.id, outbox, refresh, nameOf, contactStatus],
  );

  const updateUpload = useCallback((key: string, change: Partial<Upload>) => {
    setUploads((current) => current.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }, []);
  const sendFiles = useCallback(
    async (files: File[]) => {
      setActionError(null);
      if (blockedBy) return;
      await Promise.all(
        files.map(async (file) => {
          const key = newMessageId();
          const controller = new AbortController();
          setUploads((current) => [
            ...current,
            { key, name: file.name, sent: 0, total: file.size, error: null, controller },
          ]);
          try {
            const thumbnail = await makeThumbnail(file);
            await client.files.send(conversation.id, file, {
              name: file.name || 'file',
              mime: file.type || 'application/octet-stream',
              thumbnail,
              signal: controller.signal,
              onProgress: (sent, total) => updateUpload(key, { sent, total }),
            });
            setUploads((current) => current.filter((u) => u.key !== key));
            setBottomSignal((n) => n + 1);
          } catch (error) {
            if (controller.signal.aborted) {
              setUploads((current) => current.filter((u) => u.key !== key));
            } else {
              updateUpload(key, { error: fileErrorMessage(error) });
              if (error instanceof IdentityChangedError) void contactStatus.refetch();
            }
          }
          refresh();
        }),
      );
    },
    [client, conversation.id, refresh, updateUpload, blockedBy, contactStatus],
  );

  /**
   * Runs an action on a message: an edit, a reaction, or discarding an unsent one. An edit or a
   * reaction that fails for a reason that passes, or for a changed safety number, is kept on this
   * device and goes again by itself (see ResendUnsent), which starts a round at once so that the
   * conversation says why it waits. Other failures are shown.
   */
  const run = useCallback(
    async (work: () => Promise<unknown>) => {
      setActionError(null);
      try {
        await work();
      } catch (error) {
        if (failureMayPass(error) || error instanceof IdentityChangedError) outbox.resendNow();
        else setActionError(describeSendError(error, nameOf));
        if (error instanceof IdentityChangedError) void contactStatus.refetch();
      }
      refresh();
    },
    [nameOf, outbox, refresh, contactStatus],
  );
  const discardChanges = () =>
    void run(async () => {
      for (const change of await client.localHistory.unsentChanges())
        if (change.conversationId === conversation.id)
          await client.localHistory.discardUnsent(conversation.id, change.id);
      outbox.resendNow();
    });

  const actions = useMemo<MessageActions>(() => {
    return {
      reply: (message) => {
        setMode({ kind: 'reply', message, senderLabel: nameOf(message.sender.id) });
        composer.current?.focus();
      },
      edit: (message) => {
        setMode({ kind: 'edit', message });
        composer.current?.focus();
      },
      remove: (message) => setDeleting(message),
      react: (message, emoji, remove) =>
        void run(() => client.messages.react(conversation.id, message.id, emoji, { remove })),
      retry: (message) => void send(message.text, message.replyTo, message.id),
      discard: (message) =>
        void run(async () => {
          await client.localHistory.discardUnsent(conversation.id, message.id);
          outbox.delete(message.id);
        }),
      jumpTo,
    };
  }, [client, conversation.id, nameOf, send, run, outbox, jumpTo]);

  const readers = (seq: number): string | null => {
    // Reciprocal: who keeps their own read receipts private does not see others'.
    if (settings.data?.sendReadReceipts !== true || conversation.kind === 'notes') return null;
    const others = conversation.members.filter((m) => m.id !== user.id);
    const read = others.filter((m) => m.lastReadSeq !== null && m.lastReadSeq >= seq);
    if (read.length === 0) return 'Sent';
    if (conversation.kind === 'direct') return 'Read';
    if (read.length === others.length) return 'Read by everyone';
    return `Read by ${listNames(read.map((m) => m.username))}`;
  };
  const lastOwnSent = [...messages]
    .reverse()
    .find((m) => m.sender.id === user.id && m.seq !== null);

  function renderRow(row: TimelineRow, index: number) {
    const focusable = index === lastFocusable;
    switch (row.kind) {
      case 'day':
        // A feed holds only articles: the day's heading is one of its own, so screen readers can
        // still jump from day to day by heading.
        return (
          <div className="day-separator" role="article" aria-labelledby={`${row.key}-heading`}>
            <h3 id={`${row.key}-heading`}>{dayLabel(row.date, now)}</h3>
          </div>
        );
      case 'undecryptable': {
        const count = row.messages.length;
        return (
          <div className="timeline-marker" role="article" tabIndex={focusable ? 0 : -1}>
            <LockIcon width={16} height={16} />
            <span>
              {count === 1 ? 'One message' : `${count} messages`} could not be decrypted on this
              device. {count === 1 ? 'It was' : 'They were'} sent before this device joined the
              conversation, or failed a security check.
            </span>
          </div>
        );
      }
      case 'missing': {
        const { count, senderUserId } = row.notice;
        const it = count === 1 ? 'it' : 'them';
        return (
          <div
            className="timeline-marker timeline-marker-warning"
            role="article"
            tabIndex={focusable ? 0 : -1}
          >
            <AlertIcon width={16} height={16} />
            <span>
              {count === 1 ? 'A message' : `${count} messages`} from {nameOf(senderUserId)} never
              reached this device: the server did not deliver {it}, or the sender’s device failed to
              send {it} and discarded {it}.
            </span>
          </div>
        );
      }
      case 'message': {
        const message = row.message;
        const own = message.sender.id === user.id;
        const delivery: DeliveryState | null = own
          ? message.seq === null
            ? (entries.get(message.id)?.status ?? 'failed')
            : 'sent'
          : null;
        return (
          <MessageRow
            message={message}
            showHeader={row.showHeader}
            alongside={row.alongside}
            own={own}
            senderLabel={own ? 'You' : message.sender.username}
            delivery={delivery}
            sendError={entries.get(message.id)?.error ?? null}
            readLabel={
              own && message.id === lastOwnSent?.id && message.seq ? readers(message.seq) : null
            }
            replyTarget={message.replyTo ? (byId.get(message.replyTo) ?? null) : undefined}
            highlighted={message.id === shownFocusKey}
            focusable={focusable}
            meId={user.id}
            namesOf={(ids) => listNames(ids.map(nameOf))}
            actions={actions}
          />
        );
      }
    }
  }

  const top = paging.error ? (
    <div className="message-top-content">
      <span>Could not load older messages.</span>
      <button type="button" className="link-button" onClick={() => void loadOlder()}>
        Try again
      </button>
    </div>
  ) : paging.loading ? (
    <div className="message-top-content" role="status">
      <span className="spinner spinner-small" aria-hidden="true" /> Loading older messages…
    </div>
  ) : paging.hasMore === false && query.data?.cleared ? (
    <div className="message-top-content">Earlier messages were cleared from this device.</div>
  ) : paging.hasMore === false ? (
    <div className="message-top-content">
      <LockIcon width={14} height={14} /> Start of the conversation. Messages are end-to-end
      encrypted.
    </div>
  ) : (
    <div className="message-top-content">
      <button type="button" className="link-button" onClick={() => void loadOlder()}>
        Load older messages
      </button>
    </div>
  );

  const placeholder =
    conversation.kind === 'notes' ? 'Note to yourself' : `Message ${conversation.title}`;
  return (
    <section
      className={dragging ? 'conversation conversation-dragging' : 'conversation'}
      aria-label={`Conversation: ${conversation.title}`}
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes('Files') || blockedBy) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(event) => {
        if (!event.dataTransfer.types.includes('Files') || blockedBy) return;
        event.preventDefault();
        setDragging(false);
        const files = [...event.dataTransfer.files];
        if (files.length > 0) void sendFiles(files);
      }}
    >
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to send them encrypted
        </div>
      )}
      <ConversationHeader
        conversation={conversation}
        online={online}
        muted={muted}
        now={now}
        onOpen={setDialog}
        onUnmute={() => {
          setMuted('off');
          setAnnouncement(`Notifications on for ${conversation.title}.`);
        }}
      />
      {other && !blockedBy && identityAlerts.some((a) => a.userId === other.id && !a.verified) && (
        <div className="identity-note" role="status">
          <ShieldIcon width={18} height={18} />
          <p>
            {other.username}’s safety number changed, for example because they set up encryption
            again. Compare the new one if you want to be sure.
          </p>
          <button type="button" className="link-button" onClick={() => setDialog('safety')}>
            Review
          </button>
          <button
            type="button"
            className="link-button"
            onClick={() => dismissIdentityAlert(other.id)}
          >
            Dismiss
          </button>
        </div>
      )}
      {offline && (
        <p className="offline-note offline-note-pane" role="status">
          Offline: showing the messages saved on this device. New messages arrive when the
          connection is back.
        </p>
      )}
      {query.isPending ? (
        <LoadingState label="Loading messages" className="conversation-loading" />
      ) : query.error ? (
        <div className="conversation-loading">
          <ErrorAlert onRetry={() => void query.refetch()}>
            Could not read this device’s history. {errorMessage(query.error)}
          </ErrorAlert>
        </div>
      ) : (
        <MessageList
          rows={rows}
          renderRow={renderRow}
          estimateSize={(row) =>
            row.kind === 'day' ? 44 : row.kind === 'message' ? (row.showHeader ? 82 : 52) : 64
          }
          top={top}
          busy={paging.loading}
          canLoadOlder={paging.hasMore !== false && !paging.error}
          onNearTop={() => void loadOlder()}
          focusKey={shownFocusKey}
          focusSignal={focusSignal}
          bottomSignal={bottomSignal}
          label={`Messages with ${conversation.title}`}
        />
      )}
      {rows.length === 0 && paging.hasMore === false && (
        <p className="conversation-empty">
          {query.data?.cleared
            ? 'No messages on this device. New messages will appear here.'
            : 'No messages yet. Say hello: only the people in this conversation can read it.'}
        </p>
      )}
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      <TypingIndicator conversation={conversation} />
      {actionError && (
        <div className="conversation-error">
          <ErrorAlert>{actionError}</ErrorAlert>
        </div>
      )}
      {changesWaiting && (
        <div className="conversation-pending" role="status">
          <p>
            {changesWaiting.retryLater
              ? 'An edit or reaction is not sent yet. It is kept on this device and goes out by itself when the connection is back.'
              : `An edit or reaction is held back. ${changesWaiting.reason ?? 'It could not be sent.'} It is kept on this device and goes out by itself once that is done.`}
          </p>
          <button
            type="button"
            className="link-button"
            aria-label="Discard unsent edits and reactions"
            onClick={discardChanges}
          >
            Discard
          </button>
        </div>
      )}
      <UploadList
        uploads={uploads}
        onDismiss={(key) => setUploads((current) => current.filter((u) => u.key !== key))}
      />
      {blockedBy ? (
        <div className="composer composer-blocked" role="alert">
          <AlertIcon className="alert-icon" />
          <p>
            <strong>{blockedBy.username}’s safety number changed.</strong> You verified them before,
            so sending is blocked until you review the new number.
          </p>
          <button
            type="button"
            className="btn btn-primary btn-small"
            onClick={() => setDialog('safety')}
          >
            Review safety number
          </button>
        </div>
      ) : (
        <Composer
          ref={composer}
          placeholder={placeholder}
          mode={mode}
          onCancelMode={() => setMode(null)}
          onSend={(text, replyTo) => void send(text, replyTo)}
          onAttach={(files) => void sendFiles(files)}
          onSaveEdit={(message, text) =>
            void run(() => client.messages.edit(conversation.id, message.id, text))
          }
          onTyping={() => {
            if (settings.data?.sendTyping === false || conversation.kind === 'notes') return;
            const at = Date.now();
            if (at - lastTyping.current < TYPING_EVERY_MS) return;
            lastTyping.current = at;
            void client.messages.typing(conversation.id).catch(() => {});
          }}
        />
      )}

      <Dialog
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title="Delete this message for everyone?"
        description="It is erased from the server, and removed from the other members’ devices as they receive the deletion. Anyone who already read it may have kept a copy."
      >
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={() => setDeleting(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-danger-solid"
            onClick={() => {
              const message = deleting;
              setDeleting(null);
              if (!message) return;
              void (async () => {
                try {
                  await client.messages.delete(conversation.id, message.id);
                } catch (error) {
                  setActionError(errorMessage(error));
                }
                refresh();
              })();
            }}
          >
            Delete for everyone
          </button>
        </div>
      </Dialog>
      <FilesPanel
        conversationId={conversation.id}
        messages={messages}
        open={dialog === 'files'}
        onClose={() => setDialog(null)}
        onShow={(messageId) => {
          setDialog(null);
          jumpTo(messageId);
        }}
      />
      <ScheduleDialog
        conversation={conversation}
        open={dialog === 'schedule'}
        onClose={() => setDialog(null)}
        onSaved={(message) => {
          setAnnouncement(message);
          setBottomSignal((n) => n + 1);
          refresh();
        }}
      />
      <ClearHistoryDialog
        conversation={conversation}
        open={dialog === 'clear'}
        onClose={() => setDialog(null)}
      />
      <MuteDialog
        conversation={conversation}
        open={dialog === 'mute'}
        onClose={() => setDialog(null)}
        onMute={(until) => {
          setMuted(until);
          setDialog(null);
          setAnnouncement(`Notifications muted for ${conversation.title}.`);
        }}
      />
      {conversation.kind === 'group' && (
        <MembersDialog
          conversation={conversation}
          open={dialog === 'members'}
          onClose={() => setDialog(null)}
        />
      )}
      {other && (
        <SafetyNumberDialog
          contactId={other.id}
          username={other.username}
          open={dialog === 'safety'}
          onClose={() => {
            setDialog(null);
            void contactStatus.refetch();
          }}
        />
      )}
    </section>
  );
}

const MUTE_CHOICES = [
  { label: 'For 1 hour', ms: 3_600_000 },
  { label: 'For 8 hours', ms: 8 * 3_600_000 },
  { label: 'For 1 week', ms: 7 * 86_400_000 },
  { label: 'Until I turn them back on', ms: null },
] as const;

function MuteDialog({
  conversation,
  open,
  onClose,
  onMute,
}: {
  conversation: ConversationSummary;
  open: boolean;
  onClose: () => void;
  /** Until when (ms), or null for until turned back on. */
  onMute: (until: number | null) => void;
}) {
  const [choice, setChoice] = useState(0);
  const name = useId();
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Mute notifications"
      description={`New messages in “${conversation.title}” show no desktop notification on this browser. They still arrive and count as unread.`}
    >
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          const { ms } = MUTE_CHOICES[choice]!;
          onMute(ms === null ? null : Date.now() + ms);
        }}
      >
        <fieldset className="calendar-fieldset">
          <legend className="field-label">How long</legend>
          <div className="calendar-choices">
            {MUTE_CHOICES.map((c, i) => (
              <label key={c.label} className="checkbox-field">
                <input
                  type="radio"
                  name={name}
                  checked={choice === i}
                  onChange={() => setChoice(i)}
                />
                {c.label}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary">
            Mute
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ClearHistoryDialog({
  conversation,
  open,
  onClose,
}: {
  conversation: ConversationSummary;
  open: boolean;
  onClose: () => void;
}) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const { pending, error, run } = usePendingAction();
  async function clear() {
    await run(async () => {
      await client.localHistory.clear(conversation.id);
      await queryClient.invalidateQueries({ queryKey: e2eeKeys.all(user.id) });
      onClose();
    });
  }
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Clear local history?"
      description={`Deletes the decrypted messages of “${conversation.title}” from this browser.`}
    >
      <div className="form">
        <p className="card-description">
          They cannot be downloaded again: each message can be decrypted only once per device, so
          cleared messages are gone from this browser for good. New messages still arrive. The other
          members and your other devices keep their copies.
        </p>
        {error && <ErrorAlert>{error}</ErrorAlert>}
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <ActionButton pending={pending} onClick={() => void clear()}>
            Clear history on this browser
          </ActionButton>
        </div>
      </div>
    </Dialog>
  );
}

/** The right-hand pane for `/c/:conversationId`. */
export function ConversationView() {
  const { conversationId = '' } = useParams();
  const [params] = useSearchParams();
  const conversations = useConversations();
  const conversation = conversations.data?.items.find((c) => c.id === conversationId);
  if (!conversation) {
    if (conversations.isPending) return <LoadingState label="Loading the conversation" />;
    return (
      <div className="conversation-missing">
        <EmptyState icon={<ChatsIcon width={28} height={28} />} title="Conversation not found">
          <p>It may have been left or removed, or the link is wrong.</p>
          <p>
            <Link to="/">Back to your conversations</Link>
          </p>
        </EmptyState>
      </div>
    );
  }
  return (
    <ConversationScreen
      key={conversationId}
      conversation={conversation}
      initialFocus={params.get('message')}
    />
  );
}

/** The right-hand pane when no conversation is open (desktop). */
export function NoConversation() {
  return (
    <div className="conversation-placeholder">
      <EmptyState icon={<LockIcon width={28} height={28} />} title="Pick a conversation">
        <p>
          Choose a conversation on the left, or start a new one. Messages are encrypted on this
          device before they leave it.
        </p>
      </EmptyState>
    </div>
  );
}
