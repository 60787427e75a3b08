import type { CalendarCard, ChatMessage, ConversationSummary } from '@securechat/client';
import { describe, expect, it } from 'vitest';
import type { ConversationsData } from '../e2ee/e2ee-provider.tsx';
import { withArrivedMessage } from './conversation-list.ts';

const now = Date.parse('2026-03-02T09:00:00Z');
const me = { id: 'u1', username: 'ada' };
const bob = { id: 'u2', username: 'bob' };

function message(
  conversationId: string,
  seq: number,
  sender = bob,
  overrides: Partial<ChatMessage> = {},
): ChatMessage {
  return {
    id: `${conversationId}-${seq}`.padStart(32, '0'),
    seq,
    conversationId,
    sender,
    text: `message ${seq}`,
    sentAt: new Date(now - 1_000),
    reactions: [],
    deleted: false,
    undecryptable: false,
    ...overrides,
  };
}

function conversation(id: string, lastSeq: number, minutesAgo: number): ConversationSummary {
  return {
    id,
    kind: 'group',
    title: id,
    role: 'member',
    members: [],
    unread: 0,
    lastActivityAt: new Date(now - minutesAgo * 60_000),
    lastMessage: message(id, lastSeq),
  };
}

const list = (): ConversationsData => ({
  items: [conversation('recent', 4, 1), conversation('older', 7, 30)],
  offline: null,
});

describe('withArrivedMessage', () => {
  it('shows a new message as the preview, counts it unread and lifts its conversation', () => {
    const arrived = message('older', 8);
    const data = withArrivedMessage(list(), arrived, me.id, now);
    expect(data.items.map((c) => c.id)).toEqual(['older', 'recent']);
    expect(data.items[0]).toMatchObject({ lastMessage: arrived, unread: 1 });
    expect(data.items[0]!.lastActivityAt).toEqual(arrived.sentAt);
  });

  it('counts neither the user’s own messages nor occurrences carried along by a move', () => {
    const own = withArrivedMessage(list(), message('older', 8, me), me.id, now);
    expect(own.items[0]).toMatchObject({ id: 'older', unread: 0 });
    const calendar = { eventId: 'e1', revision: 3, movedWith: 3 } as CalendarCard;
    const carried = withArrivedMessage(list(), message('older', 8, bob, { calendar }), me.id, now);
    expect(carried.items[0]).toMatchObject({ id: 'older', unread: 0 });
  });

  it('changes nothing for a message already shown, an older one or an unknown conversation', () => {
    const data = list();
    expect(withArrivedMessage(data, message('older', 7), me.id, now)).toBe(data);
    expect(withArrivedMessage(data, message('older', 5), me.id, now)).toBe(data);
    expect(withArrivedMessage(data, message('elsewhere', 9), me.id, now)).toBe(data);
    expect(withArrivedMessage(data, { ...message('older', 8), seq: null }, me.id, now)).toBe(data);
  });

  it('never dates activity after now, whatever the sender’s clock says', () => {
    const ahead = message('older', 8, bob, { sentAt: new Date(now + 3_600_000) });
    expect(withArrivedMessage(list(), ahead, me.id, now).items[0]!.lastActivityAt).toEqual(
      new Date(now),
    );
    // A late message from long ago keeps the conversation where it was.
    const late = message('older', 8, bob, { sentAt: new Date(now - 3_600_000) });
    const data = withArrivedMessage(list(), late, me.id, now);
    expect(data.items.map((c) => c.id)).toEqual(['recent', 'older']);
    expect(data.items[1]!.lastMessage).toBe(late);
  });
});
