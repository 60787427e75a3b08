import type { ChatMessage } from '@securechat/client';
import { describe, expect, it } from 'vitest';
import { buildTimeline, isCarriedAlong, type TimelineRow } from './timeline.ts';

const at = Date.parse('2026-03-02T09:00:00Z');
const ada = { id: 'u1', username: 'ada' };
const bob = { id: 'u2', username: 'bob' };
let next = 0;

function message(
  sentAtMs: number,
  overrides: Partial<ChatMessage> = {},
  sender = ada,
): ChatMessage {
  next += 1;
  return {
    id: next.toString(16).padStart(32, '0'),
    seq: next,
    conversationId: 'c1',
    sender,
    text: '',
    sentAt: new Date(sentAtMs),
    reactions: [],
    deleted: false,
    undecryptable: false,
    ...overrides,
  };
}

/** A card of event `e1`: its series at `revision`, or an occurrence carried by `movedWith`. */
function card(
  recurrenceId: string | null,
  { revision = 2, movedWith = null }: { revision?: number; movedWith?: number | null } = {},
): Pick<ChatMessage, 'calendar'> {
  return {
    calendar: {
      eventId: 'e1',
      revision,
      deleted: false,
      recurrenceId,
      title: 'Planning',
      allDay: false,
      start: recurrenceId ?? '2026-03-02T10:00:00Z',
      end: '2026-03-02T11:00:00Z',
      timeZone: 'Europe/Berlin',
      rrule: recurrenceId ? null : 'FREQ=WEEKLY',
      location: '',
      movedWith,
    },
  };
}

const messageRows = (rows: TimelineRow[]) =>
  rows.filter((row): row is Extract<TimelineRow, { kind: 'message' }> => row.kind === 'message');

describe('buildTimeline: occurrences carried by a move of their series', () => {
  it('folds them into the card of the series revision that moved them', () => {
    const series = message(at, card(null, { revision: 3 }));
    const reply = message(at + 20, { text: 'ok' }, bob);
    const first = message(at + 40, card('2026-03-09T10:00:00Z', { movedWith: 3 }));
    const second = message(at + 80, card('2026-03-16T10:00:00Z', { movedWith: 3 }));
    const rows = messageRows(buildTimeline([series, reply, first, second], []));
    expect(rows.map((row) => row.message.id)).toEqual([series.id, reply.id]);
    expect(rows[0]!.alongside?.map((m) => m.id)).toEqual([first.id, second.id]);
  });

  it('keeps a row for an occurrence changed on its own, even right after a series change', () => {
    const series = message(at, card(null, { revision: 3 }));
    const edited = message(at + 40, card('2026-03-09T10:00:00Z'));
    expect(messageRows(buildTimeline([series, edited], []))).toHaveLength(2);
  });

  it('keeps a row when the revision, the sender or the reactions do not fit', () => {
    const series = message(at, card(null, { revision: 3 }));
    const otherRevision = message(at + 40, card('x', { movedWith: 2 }));
    const otherSender = message(at + 40, card('x', { movedWith: 3 }), bob);
    const reacted = message(at + 40, {
      ...card('x', { movedWith: 3 }),
      reactions: [{ emoji: '👍', userIds: ['u2'] }],
    });
    for (const occurrence of [otherRevision, otherSender, reacted])
      expect(messageRows(buildTimeline([series, occurrence], []))).toHaveLength(2);
  });

  it('folds nothing into a cancelled or deleted series card', () => {
    const cancelled = card(null, { revision: 3 });
    cancelled.calendar!.deleted = true;
    const carried = () => message(at + 40, card('x', { movedWith: 3 }));
    expect(messageRows(buildTimeline([message(at, cancelled), carried()], []))).toHaveLength(2);
    const deleted = message(at, { ...card(null, { revision: 3 }), deleted: true });
    expect(messageRows(buildTimeline([deleted, carried()], []))).toHaveLength(2);
  });
});

describe('isCarriedAlong', () => {
  it('tells the occurrence cards a series move carried from every other message', () => {
    expect(isCarriedAlong(message(at, card('2026-03-09T10:00:00Z', { movedWith: 3 })))).toBe(true);
    expect(isCarriedAlong(message(at, card('2026-03-09T10:00:00Z')))).toBe(false);
    expect(isCarriedAlong(message(at, card(null)))).toBe(false);
    expect(isCarriedAlong(message(at, { text: 'hello' }))).toBe(false);
  });
});
