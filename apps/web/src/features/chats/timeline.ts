import type { ChatMessage, MissingNotice } from '@securechat/client';

/** One row of the message list: a day separator, a message, or a marker. */
export type TimelineRow =
  | { kind: 'day'; key: string; date: Date }
  | {
      kind: 'message';
      key: string;
      message: ChatMessage;
      showHeader: boolean;
      /** Occurrence cards this series card's move carried along (see `seriesKey`). */
      alongside?: ChatMessage[];
    }
  | { kind: 'undecryptable'; key: string; messages: ChatMessage[] }
  | { kind: 'missing'; key: string; notice: MissingNotice };

/** Messages of one sender this close together share one name-and-time header. */
const GROUP_MS = 5 * 60_000;

type MessageRow = Extract<TimelineRow, { kind: 'message' }>;

/**
 * The key under which a series card is found by the occurrence cards its move carried along:
 * changing a whole series' start re-sends each occurrence changed on its own at its new date,
 * one message each, marked with the series revision that moved it (`movedWith`).
 */
function seriesKey(message: ChatMessage): string | null {
  const card = message.calendar;
  if (!card || card.deleted || message.deleted) return null;
  if (card.recurrenceId === null) return `${message.sender.id} ${card.eventId} ${card.revision}`;
  if (card.movedWith === null || message.reactions.length > 0) return null;
  return `${message.sender.id} ${card.eventId} ${card.movedWith}`;
}

/**
 * Whether a message is an occurrence card carried along by a move of its whole series: it is
 * announced and notified as part of the move's card, not on its own (it was sent silent, so it
 * does not count as unread either).
 */
export function isCarriedAlong(message: ChatMessage): boolean {
  return message.calendar !== undefined && message.calendar.movedWith !== null;
}

function dayKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/**
 * The rows of a conversation, oldest first: a separator before each new day, runs of messages
 * this device could not decrypt collapsed into one marker, occurrence cards folded into the
 * card of the series move that carried them, and "messages missing" notices placed where they were noticed.
 */
export function buildTimeline(messages: ChatMessage[], missing: MissingNotice[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const notices = [...missing].sort((a, b) => a.detectedAt - b.detectedAt);
  let noticeIndex = 0;
  let lastDay = '';
  let previous: ChatMessage | null = null;
  // Series cards shown so far, for the occurrence cards their moves carried (see seriesKey).
  const seriesRows = new Map<string, MessageRow>();

  for (const message of messages) {
    while (
      noticeIndex < notices.length &&
      notices[noticeIndex]!.detectedAt < message.sentAt.getTime()
    ) {
      const notice = notices[noticeIndex++]!;
      rows.push({
        kind: 'missing',
        key: `missing-${notice.detectedAt}-${notice.senderUserId}`,
        notice,
      });
      previous = null;
    }
    const day = dayKey(message.sentAt);
    if (day !== lastDay) {
      rows.push({ kind: 'day', key: `day-${day}`, date: message.sentAt });
      lastDay = day;
      previous = null;
    }
    if (message.undecryptable) {
      const last = rows[rows.length - 1];
      if (last?.kind === 'undecryptable') last.messages.push(message);
      else
        rows.push({
          kind: 'undecryptable',
          key: `undecryptable-${message.id}`,
          messages: [message],
        });
      previous = null;
      continue;
    }
    const key = seriesKey(message);
    const host = key !== null && message.calendar?.recurrenceId ? seriesRows.get(key) : undefined;
    if (host) {
      (host.alongside ??= []).push(message);
      continue;
    }
    const showHeader =
      previous === null ||
      previous.sender.id !== message.sender.id ||
      message.sentAt.getTime() - previous.sentAt.getTime() > GROUP_MS;
    const row: MessageRow = { kind: 'message', key: message.id, message, showHeader };
    rows.push(row);
    if (key !== null && message.calendar?.recurrenceId === null) seriesRows.set(key, row);
    previous = message;
  }
  for (; noticeIndex < notices.length; noticeIndex++) {
    const notice = notices[noticeIndex]!;
    rows.push({
      kind: 'missing',
      key: `missing-${notice.detectedAt}-${notice.senderUserId}`,
      notice,
    });
  }
  return rows;
}

const weekday = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  month: 'long',
  day: 'numeric',
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

/** "Today", "Yesterday", "Monday, March 3" within a week, else the full date. */
export function dayLabel(date: Date, now: number): string {
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  const that = new Date(date);
  that.setHours(0, 0, 0, 0);
  const days = Math.round((today.getTime() - that.getTime()) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (days > 1 && days < 7) return weekday.format(date);
  return fullDate.format(date);
}

/** The time of day of a message, e.g. "14:05" or "2:05 PM" depending on the locale. */
export function clockTime(date: Date): string {
  return clock.format(date);
}
