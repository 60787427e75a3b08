import { memo, useEffect, useRef, useState } from 'react';
import type { ChatMessage } from '@securechat/client';
import { EditIcon, ReplyIcon, SmileIcon, TrashIcon } from '../../components/icons.tsx';
import { formatAbsolute } from '../../lib/time.ts';
import { EventCard } from '../calendar/event-card.tsx';
import { FileAttachment } from './files.tsx';
import { clockTime } from './timeline.ts';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'] as const;

export type DeliveryState = 'sending' | 'failed' | 'sent';

export interface MessageActions {
  reply(message: ChatMessage): void;
  edit(message: ChatMessage): void;
  remove(message: ChatMessage): void;
  react(message: ChatMessage, emoji: string, remove: boolean): void;
  retry(message: ChatMessage): void;
  discard(message: ChatMessage): void;
  jumpTo(messageId: string): void;
}

function ReactionPicker({
  label,
  onPick,
  onClose,
}: {
  label: string;
  onPick: (emoji: string) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector('button')?.focus();
    function onPointerDown(event: PointerEvent) {
      if (!ref.current?.contains(event.target as Node)) onClose();
    }
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [onClose]);
  return (
    <div
      ref={ref}
      className="reaction-picker"
      role="group"
      aria-label={label}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
        if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
          event.stopPropagation();
          const buttons = [...(ref.current?.querySelectorAll('button') ?? [])];
          const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
          const next =
            (index + (event.key === 'ArrowRight' ? 1 : -1) + buttons.length) % buttons.length;
          buttons[next]?.focus();
        }
      }}
    >
      {QUICK_REACTIONS.map((emoji) => (
        <button
          key={emoji}
          type="button"
          className="reaction-choice"
          aria-label={`React with ${emoji}`}
          onClick={() => onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}

function replySnippet(target: ChatMessage | null | undefined): string {
  if (!target) return 'An earlier message';
  if (target.deleted) return 'A deleted message';
  if (target.undecryptable) return 'A message that could not be decrypted';
  return target.text.length > 120 ? `${target.text.slice(0, 119)}…` : target.text;
}

/** One message: its bubble, and the actions on it (shown on hover or focus). */
export const MessageRow = memo(function MessageRow({
  message,
  showHeader,
  alongside,
  own,
  senderLabel,
  delivery,
  sendError,
  readLabel,
  replyTarget,
  highlighted,
  focusable,
  meId,
  namesOf,
  actions,
}: {
  message: ChatMessage;
  showHeader: boolean;
  /** Occurrence cards folded into this series card (see buildTimeline). */
  alongside?: ChatMessage[];
  own: boolean;
  senderLabel: string;
  delivery: DeliveryState | null;
  sendError: string | null;
  readLabel: string | null;
  /** The message replied to, null when not loaded, undefined when this is not a reply. */
  replyTarget: ChatMessage | null | undefined;
  highlighted: boolean;
  focusable: boolean;
  meId: string;
  namesOf: (userIds: string[]) => string;
  actions: MessageActions;
}) {
  const [picking, setPicking] = useState(false);
  const sent = message.seq !== null;
  const from = own ? 'you' : message.sender.username;
  const canAct = !message.deleted && sent;
  const calendarCard = message.calendar ?? null;
  return (
    <div
      className={[
        'message',
        own ? 'message-own' : 'message-other',
        showHeader ? 'message-first' : null,
        highlighted ? 'message-highlighted' : null,
      ]
        .filter(Boolean)
        .join(' ')}
      data-message-id={message.id}
      tabIndex={focusable ? 0 : -1}
      aria-label={`${senderLabel}, ${formatAbsolute(message.sentAt)}`}
      role="article"
    >
      {showHeader && (
        <p className="message-meta">
          <span className="message-sender">{senderLabel}</span>
          <time dateTime={message.sentAt.toISOString()} title={formatAbsolute(message.sentAt)}>
            {clockTime(message.sentAt)}
          </time>
        </p>
      )}
      <div className="message-bubble-row">
        <div className="message-bubble">
          {replyTarget !== undefined && (
            <button
              type="button"
              className="message-quote"
              aria-label={`Replying to ${replyTarget ? replyTarget.sender.username : 'an earlier message'}: ${replySnippet(replyTarget)}. Show it`}
              onClick={() => message.replyTo && actions.jumpTo(message.replyTo)}
            >
              {replyTarget && (
                <span className="message-quote-sender">{replyTarget.sender.username}</span>
              )}
              <span className="message-quote-text">{replySnippet(replyTarget)}</span>
            </button>
          )}
          {message.deleted ? (
            <p className="message-text message-deleted">This message was deleted.</p>
          ) : calendarCard ? (
            <EventCard
              card={calendarCard}
              alongside={alongside?.flatMap((m) => (m.calendar ? [m.calendar] : []))}
            />
          ) : (
            <>
              {message.file && <FileAttachment message={message} />}
              {(message.text || !message.file) && <p className="message-text">{message.text}</p>}
            </>
          )}
          {(message.editedAt || !showHeader) && (
            <p className="message-footer">
              {message.editedAt && !message.deleted && (
                <span
                  className="message-edited"
                  title={`Edited ${formatAbsolute(message.editedAt)}`}
                >
                  edited
                </span>
              )}
              {!showHeader && (
                <time className="message-time-inline" dateTime={message.sentAt.toISOString()}>
                  {clockTime(message.sentAt)}
                </time>
              )}
            </p>
          )}
        </div>
        {canAct && (
          <div
            className="message-actions"
            role="toolbar"
            aria-label={`Actions for message from ${from}`}
          >
            <button
              type="button"
              className="icon-button icon-button-small"
              aria-label={`Reply to message from ${from}`}
              title="Reply"
              onClick={() => actions.reply(message)}
            >
              <ReplyIcon />
            </button>
            <button
              type="button"
              className="icon-button icon-button-small"
              aria-label={`React to message from ${from}`}
              aria-expanded={picking}
              title="React"
              onClick={() => setPicking((value) => !value)}
            >
              <SmileIcon />
            </button>
            {own && !calendarCard && (
              <>
                {!message.file && (
                  <button
                    type="button"
                    className="icon-button icon-button-small"
                    aria-label="Edit message"
                    title="Edit"
                    onClick={() => actions.edit(message)}
                  >
                    <EditIcon />
                  </button>
                )}
                <button
                  type="button"
                  className="icon-button icon-button-small"
                  aria-label="Delete message"
                  title="Delete"
                  onClick={() => actions.remove(message)}
                >
                  <TrashIcon />
                </button>
              </>
            )}
            {picking && (
              <ReactionPicker
                label={`Reactions for message from ${from}`}
                onClose={() => setPicking(false)}
                onPick={(emoji) => {
                  setPicking(false);
                  const mine = message.reactions
                    .find((r) => r.emoji === emoji)
                    ?.userIds.includes(meId);
                  actions.react(message, emoji, mine ?? false);
                }}
              />
            )}
          </div>
        )}
      </div>
      {message.reactions.length > 0 && !message.deleted && (
        <ul className="reactions" aria-label="Reactions">
          {message.reactions.map((reaction) => (
            <li key={reaction.emoji}>
              <ReactionChip
                emoji={reaction.emoji}
                userIds={reaction.userIds}
                mine={reaction.userIds.includes(meId)}
                namesOf={namesOf}
                onToggle={(remove) => actions.react(message, reaction.emoji, remove)}
              />
            </li>
          ))}
        </ul>
      )}
      {delivery === 'sending' && <p className="message-status">Sending…</p>}
      {delivery === 'failed' && (
        <div className="message-status message-status-failed" role="alert">
          <span>Not sent{sendError ? `: ${sendError}` : '.'}</span>
          <button type="button" className="link-button" onClick={() => actions.retry(message)}>
            Retry
          </button>
          <button type="button" className="link-button" onClick={() => actions.discard(message)}>
            Discard
          </button>
        </div>
      )}
      {delivery === 'sent' && readLabel && <p className="message-status">{readLabel}</p>}
    </div>
  );
});

/** A reaction with its count; pressed when it includes the signed-in user's. */
function ReactionChip({
  emoji,
  userIds,
  mine,
  namesOf,
  onToggle,
}: {
  emoji: string;
  userIds: string[];
  mine: boolean;
  namesOf: (userIds: string[]) => string;
  onToggle: (remove: boolean) => void;
}) {
  const names = namesOf(userIds);
  return (
    <button
      type="button"
      className="reaction-chip"
      aria-pressed={mine}
      aria-label={`${emoji} ${userIds.length}: ${names}`}
      title={names}
      onClick={() => onToggle(mine)}
    >
      <span aria-hidden="true">{emoji}</span>
      <span aria-hidden="true" className="reaction-count">
        {userIds.length}
      </span>
    </button>
  );
}
