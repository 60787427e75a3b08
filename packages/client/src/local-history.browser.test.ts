import { fromHex } from '@securechat/crypto';
import { describe, expect, it } from 'vitest';
import { LocalState, type MessageRecord } from './e2ee/local-state.ts';
import { EncryptingKeyStore } from './key-store-encrypting.ts';
import { IndexedDbKeyStore } from './key-store-idb.ts';
import {
  cachedViews,
  latestCachedView,
  matchesQuery,
  searchCached,
  searchWords,
} from './local-history.ts';

const id = (n: number) => n.toString(16).padStart(32, '0');
const names: Record<string, string> = { u1: 'alice', u2: 'bob' };
const username = (userId: string) => names[userId] ?? 'unknown';

function record(
  seq: number,
  conversationId: string,
  sender: string,
  content: MessageRecord['content'],
): MessageRecord {
  return {
    seq,
    conversationId,
    clientMessageId: id(seq),
    senderUserId: sender,
    senderDeviceId: 'd',
    sentAt: 1_700_000_000_000 + seq * 1000,
    content,
    deleted: false,
  };
}

async function seeded(): Promise<LocalState> {
  const local = new LocalState(
    new EncryptingKeyStore(new IndexedDbKeyStore(`t-${Math.random()}`)),
    'u1',
  );
  const rows = [
    record(1, 'c1', 'u1', { type: 'text', text: 'Meet at the Café Öst', replyTo: null }),
    record(2, 'c1', 'u2', {
      type: 'text',
      text: 'Launch plans are ready',
      replyTo: fromHex(id(1), 16),
    }),
    record(3, 'c1', 'u1', {
      type: 'edit',
      target: fromHex(id(1), 16),
      text: 'Meet at the harbour',
    }),
    record(4, 'c1', 'u2', {
      type: 'reaction',
      target: fromHex(id(2), 16),
      emoji: '👍',
      remove: false,
    }),
    record(5, 'c2', 'u2', { type: 'text', text: 'launch day in the other chat', replyTo: null }),
  ];
  for (const r of rows) {
    await local.setMessage(r);
    await local.setMessageIdBySeq(r.conversationId, r.seq!, r.clientMessageId);
  }
  return local;
}

describe('local history', () => {
  it('matches every query word as a word prefix, ignoring case and accents', () => {
    expect(searchWords('Café-Öst, 2024!')).toEqual(['cafe', 'ost', '2024']);
    expect(matchesQuery(searchWords('caf os'), 'Meet at the Café Öst')).toBe(true);
    expect(matchesQuery(searchWords('afe'), 'Meet at the Café Öst')).toBe(false);
    expect(matchesQuery(searchWords(''), 'anything')).toBe(false);
  });

  it('reads sealed history back as views with edits, replies and reactions applied', async () => {
    const local = await seeded();
    const views = await cachedViews(local, 'c1', username);
    expect(views.map((v) => v.text)).toEqual(['Launch plans are ready', 'Meet at the harbour']);
    expect(views[0]).toMatchObject({ replyTo: id(1), sender: { username: 'bob' } });
    expect(views[0]!.reactions).toEqual([{ emoji: '👍', userIds: ['u2'] }]);
    expect(views[1]!.editedAt).toBeInstanceOf(Date);
    expect((await latestCachedView(local, 'c1', username))?.text).toBe('Launch plans are ready');
  });

  it('searches across conversations (edited text, not the original), newest first', async () => {
    const local = await seeded();
    const hits = await searchCached(local, 'launch', username);
    expect(hits.map((h) => [h.conversationId, h.text])).toEqual([
      ['c2', 'launch day in the other chat'],
      ['c1', 'Launch plans are ready'],
    ]);
    expect(await searchCached(local, 'cafe', username)).toEqual([]);
    expect((await searchCached(local, 'harb', username, { conversationId: 'c2' })).length).toBe(0);
  });

  it('clearing a conversation forgets its messages and remembers how far it cleared', async () => {
    const local = await seeded();
    await local.setClearedSeq('c1', 4);
    await local.deleteMessages('c1');
    expect(await local.messagesOf('c1')).toEqual([]);
    expect(await local.messageIdsBySeq('c1')).toEqual([]);
    expect(await local.getClearedSeq('c1')).toBe(4);
    expect(await local.conversationsWithMessages()).toEqual(['c2']);
  });
});
