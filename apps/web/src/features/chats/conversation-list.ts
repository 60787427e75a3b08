import type { ChatMessage } from '@securechat/client';
import type { ConversationsData } from '../e2ee/e2ee-provider.tsx';
import { isCarriedAlong } from './timeline.ts';

/**
 * The list with a message that just arrived applied to its conversation: the preview, the order
 * and the unread count change at once instead of after the list is fetched again (which still
 * follows, and has the last word). A message no newer than the preview changes nothing. The
 * activity time is the message's own, never later than now, so a sender's fast clock cannot lift
 * a conversation above newer ones.
 */
export function withArrivedMessage(
  data: ConversationsData,
  message: ChatMessage,
  meId: string,
  now = Date.now(),
): ConversationsData {
  const { seq } = message;
  const index = data.items.findIndex((c) => c.id === message.conversationId);
  const conversation = data.items[index];
  if (seq === null || !conversation || (conversation.lastMessage?.seq ?? 0) >= seq) return data;
  const counts = message.sender.id !== meId && !isCarriedAlong(message);
  const items = data.items.with(index, {
    ...conversation,
    lastMessage: message,
    lastActivityAt: new Date(
      Math.max(conversation.lastActivityAt.getTime(), Math.min(message.sentAt.getTime(), now)),
    ),
    unread: conversation.unread + (counts ? 1 : 0),
  });
  return { ...data, items: sortByActivity(items) };
}

/** Most recently active first. */
export function sortByActivity<T extends { lastActivityAt: Date }>(items: T[]): T[] {
  return [...items].sort((a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime());
}
