import { toHex } from '@securechat/crypto';
import type { LocalState, MessageRecord } from './e2ee/local-state.ts';
import { buildViews, isModifier, type ChatMessage } from './e2ee/views.ts';

/** Server order; messages still being sent (no seq yet) last, by when they were written. */
export function byServerOrder(a: MessageRecord, b: MessageRecord): number {
  return (a.seq ?? Infinity) - (b.seq ?? Infinity) || a.sentAt - b.sentAt;
}

/** Views of every message of a conversation that this device holds, newest first. */
export async function cachedViews(
  local: LocalState,
  conversationId: string,
  username: (userId: string) => string,
): Promise<ChatMessage[]> {
  const records = (await local.messagesOf(conversationId)).sort(byServerOrder);
  return buildViews(records, records.filter(isModifier), username).reverse();
}

/**
 * The newest message of a conversation that shows on its own (not a reaction, edit or control
 * message), from this device's history, for a preview. Only the newest `window` records are read:
 * an edit of a recent message comes after it, so it is among them.
 */
export async function latestCachedView(
  local: LocalState,
  conversationId: string,
  username: (userId: string) => string,
  window = 25,
): Promise<ChatMessage | null> {
  const ids = await local.messageIdsBySeq(conversationId, window);
  const records = (
    await Promise.all(ids.map(({ id }) => local.getMessage(conversationId, id)))
  ).filter((r): r is MessageRecord => r !== undefined);
  const views = buildViews(records, records.filter(isModifier), username);
  return views[views.length - 1] ?? null;
}

/**
 * This device's messages that the server never acknowledged (texts, files, edits and reactions),
 * oldest first. Index entries of messages sent meanwhile, or cleared from this device's history,
 * are dropped.
 */
export async function unsentRecords(local: LocalState): Promise<MessageRecord[]> {
  const records: MessageRecord[] = [];
  for (const { conversationId, clientMessageId } of await local.unsent()) {
    const record = await local.getMessage(conversationId, clientMessageId);
    if (record && record.seq === null && !record.deleted) records.push(record);
    else await local.deleteUnsent(conversationId, clientMessageId);
  }
  return records.sort((a, b) => a.sentAt - b.sentAt);
}

/** An edit or a reaction of this device that the server never acknowledged. */
export interface UnsentChange {
  /** Its own client message id, for `messages.resend` and `localHistory.discardUnsent`. */
  id: string;
  conversationId: string;
  /** The message it changes. */
  target: string;
  sentAt: Date;
  change: { kind: 'edit'; text: string } | { kind: 'reaction'; emoji: string; remove: boolean };
}

/** The edits and reactions among {@link unsentRecords}, oldest first. */
export function unsentChanges(records: MessageRecord[]): UnsentChange[] {
  return records.flatMap((record): UnsentChange[] => {
    const content = record.content;
    if (content?.type !== 'edit' && content?.type !== 'reaction') return [];
    return [
      {
        id: record.clientMessageId,
        conversationId: record.conversationId,
        target: toHex(content.target),
        sentAt: new Date(record.sentAt),
        change:
          content.type === 'edit'
            ? { kind: 'edit', text: content.text }
            : { kind: 'reaction', emoji: content.emoji, remove: content.remove },
      },
    ];
  });
}

/**
 * The conversation list with what this device wrote last and could not send yet: a conversation
 * whose newest unsent message is newer than its preview shows that message (its seq is null), and
 * counts as active when it was written, as the conversation itself shows it last.
 */
export async function withUnsentPreviews<
  T extends { id: string; lastActivityAt: Date; lastMessage: ChatMessage | null },
>(local: LocalState, summaries: T[], username: (userId: string) => string): Promise<T[]> {
  const newest = new Map<string, ChatMessage>();
  for (const view of buildViews(await unsentRecords(local), [], username)) {
    newest.set(view.conversationId, view);
  }
  if (newest.size === 0) return summaries;
  return summaries.map((summary) => {
    const unsent = newest.get(summary.id);
    if (!unsent || (summary.lastMessage && summary.lastMessage.sentAt >= unsent.sentAt)) {
      return summary;
    }
    const activity = Math.max(summary.lastActivityAt.getTime(), unsent.sentAt.getTime());
    return { ...summary, lastMessage: unsent, lastActivityAt: new Date(activity) };
  });
}

/** Lower case, without accents, so "Café" is found by "cafe". */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of a text for matching (letters and digits in any script). */
export function searchWords(text: string): string[] {
  return foldForSearch(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Whether every word of the query starts some word of the text ("lau pla" finds "Launch plans"). */
export function matchesQuery(queryWords: string[], text: string): boolean {
  if (queryWords.length === 0) return false;
  const words = searchWords(text);
  return queryWords.every((q) => words.some((w) => w.startsWith(q)));
}

/**
 * Searches the messages this device has decrypted (a linear scan of the local history: there is
 * no server-side index, since the server never sees text). Newest first.
 */
export async function searchCached(
  local: LocalState,
  query: string,
  username: (userId: string) => string,
  options: { conversationId?: string; limit?: number } = {},
): Promise<ChatMessage[]> {
  const queryWords = searchWords(query);
  if (queryWords.length === 0) return [];
  const conversations = options.conversationId
    ? [options.conversationId]
    : await local.conversationsWithMessages();
  const found: ChatMessage[] = [];
  for (const conversationId of conversations) {
    for (const view of await cachedViews(local, conversationId, username)) {
      if (!view.deleted && !view.undecryptable && matchesQuery(queryWords, view.text)) {
        found.push(view);
      }
    }
  }
  found.sort((a, b) => b.sentAt.getTime() - a.sentAt.getTime());
  return found.slice(0, options.limit ?? 50);
}
