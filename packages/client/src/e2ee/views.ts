import { toHex, type FileRef } from '@securechat/crypto';
import { calendarCardOf, isCalendarAnswer, type CalendarCard } from '../calendar.ts';
import type { MessageRecord } from './local-state.ts';

/** A decrypted chat message as applications show it. */
export interface ChatMessage {
  /** The client message id (32 hex characters): the target of edits, reactions and replies. */
  id: string;
  /** The server's order of this message in its conversation (null while it is being sent). */
  seq: number | null;
  conversationId: string;
  sender: { id: string; username: string };
  /** The text (the latest edit's, if edited); empty for a file without caption. */
  text: string;
  sentAt: Date;
  editedAt?: Date;
  replyTo?: string;
  reactions: { emoji: string; userIds: string[] }[];
  file?: FileRef;
  /** A small preview of `file` (an image), encrypted as a file of its own. */
  thumbnail?: FileRef;
  /** Deleted by its sender: the text is gone for everyone. */
  deleted: boolean;
  /** It failed a check: it is shown as "could not decrypt", never as text. */
  undecryptable: boolean;
  /** A calendar event's revision (created, changed or cancelled): shown as an event card. */
  calendar?: CalendarCard;
}

/** Records that change another message rather than showing on their own. */
export function isModifier(record: MessageRecord): boolean {
  const type = record.content?.type;
  // An answer to an invitation belongs to its event, not to the timeline.
  return (
    type === 'edit' || type === 'reaction' || type === 'control' || isCalendarAnswer(record.content)
  );
}

/**
 * Builds views of the primary messages in `records` (oldest first), applying edits (only the
 * original sender's count) and reactions found among `modifiers`. A modifier of this device that
 * the server has not acknowledged (no seq) is left out: its send may have failed, and no one else
 * sees it until it arrives.
 */
export function buildViews(
  records: MessageRecord[],
  modifiers: MessageRecord[],
  username: (userId: string) => string,
): ChatMessage[] {
  const edits = new Map<string, { text: string; at: number; by: string }>();
  const reactions = new Map<string, Map<string, Map<string, number>>>();
  for (const m of modifiers.filter((m) => m.seq !== null).sort((a, b) => a.seq! - b.seq!)) {
    const content = m.content;
    if (content?.type === 'edit') {
      edits.set(toHex(content.target), { text: content.text, at: m.sentAt, by: m.senderUserId });
    } else if (content?.type === 'reaction') {
      const target = toHex(content.target);
      let byEmoji = reactions.get(target);
      if (!byEmoji) reactions.set(target, (byEmoji = new Map()));
      let users = byEmoji.get(content.emoji);
      if (!users) byEmoji.set(content.emoji, (users = new Map()));
      if (content.remove) users.delete(m.senderUserId);
      else users.set(m.senderUserId, m.sentAt);
    }
  }
  const views: ChatMessage[] = [];
  for (const record of records) {
    if (isModifier(record)) continue;
    const content = record.content;
    const edit = edits.get(record.clientMessageId);
    const applied = edit && edit.by === record.senderUserId ? edit : undefined;
    const view: ChatMessage = {
      id: record.clientMessageId,
      seq: record.seq,
      conversationId: record.conversationId,
      sender: { id: record.senderUserId, username: username(record.senderUserId) },
      text: '',
      sentAt: new Date(record.sentAt),
      reactions: [
        ...(reactions.get(record.clientMessageId) ?? new Map<string, Map<string, number>>()),
      ]
        .filter(([, users]) => users.size > 0)
        .map(([emoji, users]) => ({ emoji, userIds: [...users.keys()] })),
      deleted: record.deleted,
      undecryptable: !record.deleted && content === null,
    };
    if (content?.type === 'text') {
      view.text = applied?.text ?? content.text;
      if (content.replyTo) view.replyTo = toHex(content.replyTo);
    } else if (content?.type === 'file') {
      view.text = content.caption;
      view.file = content.file;
      if (content.thumbnail) view.thumbnail = content.thumbnail;
    } else if (content?.type === 'calendar') {
      const card = calendarCardOf(content);
      if (card) view.calendar = card;
    }
    if (applied && !record.deleted) view.editedAt = new Date(applied.at);
    views.push(view);
  }
  return views;
}
