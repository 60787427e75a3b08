import { randomBytes } from 'node:crypto';
import { apiErrorCode } from '@securechat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  code,
  devicesOf,
  opaqueCommit,
  opaqueMessage,
  opaqueUser,
  type OpaqueUser,
} from './fixtures.ts';
import { startTestServer, waitFor, type TestServer } from './harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function pair(): Promise<[OpaqueUser, OpaqueUser, string]> {
  const a = await opaqueUser(server.url, 'a');
  const b = await opaqueUser(server.url, 'b');
  const { id } = await a.client.api.conversations.openDirect.mutate({ username: b.username });
  return [a, b, id];
}

describe('conversations', () => {
  it('has exactly one direct conversation per pair, whoever opens it', async () => {
    const [a, b, id] = await pair();
    expect((await a.client.api.conversations.openDirect.mutate({ username: b.username })).id).toBe(
      id,
    );
    expect(
      (await b.client.api.conversations.openDirect.mutate({ username: a.username.toUpperCase() }))
        .id,
    ).toBe(id);
  });

  it('refuses messages until the first epoch is committed', async () => {
    const [a, b, id] = await pair();
    expect(await code(a.client.api.messages.send.mutate(opaqueMessage(id, 0)))).toBe(
      'PRECONDITION_FAILED',
    );
    await opaqueCommit(a, id, null, devicesOf(a, b));
    await a.client.api.messages.send.mutate(opaqueMessage(id, 0));
  });

  it('lets exactly one of two concurrent commits win; the other succeeds after refreshing', async () => {
    const [a, b, id] = await pair();
    const results = await Promise.allSettled([
      opaqueCommit(a, id, null, devicesOf(a, b)),
      opaqueCommit(b, id, null, devicesOf(a, b)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.findIndex((r) => r.status === 'rejected');
    expect(apiErrorCode((results[loser] as PromiseRejectedResult).reason)).toBe(
      'PRECONDITION_FAILED',
    );
    const state = await (loser === 0 ? a : b).client.api.conversations.keyState.query({
      conversationId: id,
    });
    expect(state.epoch).toBe(0);
    expect((await opaqueCommit(loser === 0 ? a : b, id, state.epoch, devicesOf(a, b))).epoch).toBe(
      1,
    );
  });

  it('refuses a commit that leaves out a member device', async () => {
    const [a, , id] = await pair();
    expect(await code(opaqueCommit(a, id, null, devicesOf(a)))).toBe('PRECONDITION_FAILED');
  });

  it('delivers each envelope only to its device, through keyState', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    expect(
      (await b.client.api.conversations.keyState.query({ conversationId: id })).envelopes,
    ).toHaveLength(1);
    expect(
      (await a.client.api.conversations.keyState.query({ conversationId: id })).envelopes,
    ).toHaveLength(0);
  });

  it('lets only admins change group membership, and makes a leave force rotation first', async () => {
    const admin = await opaqueUser(server.url, 'adm');
    const m1 = await opaqueUser(server.url, 'm1');
    const m2 = await opaqueUser(server.url, 'm2');
    const { id } = await admin.client.api.conversations.createGroup.mutate({
      members: [m1.username],
    });
    await opaqueCommit(admin, id, null, devicesOf(admin, m1));
    expect(
      await code(opaqueCommit(m1, id, 0, devicesOf(admin, m1, m2), { add: [{ userId: m2.id }] })),
    ).toBe('FORBIDDEN');
    await opaqueCommit(admin, id, 0, devicesOf(admin, m1, m2), { add: [{ userId: m2.id }] });
    expect((await m2.client.api.conversations.list.query()).map((c) => c.id)).toContain(id);

    await m2.client.api.conversations.leave.mutate({ conversationId: id });
    expect(await code(m2.client.api.messages.list.query({ conversationId: id }))).toBe('NOT_FOUND');
    // Nobody may send under the old keys until a remaining member rotates.
    expect(await code(m1.client.api.messages.send.mutate(opaqueMessage(id, 1)))).toBe(
      'PRECONDITION_FAILED',
    );
    await opaqueCommit(m1, id, 1, devicesOf(admin, m1));
    await m1.client.api.messages.send.mutate(opaqueMessage(id, 2));

    await opaqueCommit(admin, id, 2, devicesOf(admin), { remove: [m1.id] });
    expect(await code(m1.client.api.messages.send.mutate(opaqueMessage(id, 3)))).toBe('NOT_FOUND');
  });
});

describe('messages', () => {
  it('stores one message for a client message id sent twice', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    const message = opaqueMessage(id, 0);
    const [first, second] = await Promise.all([
      a.client.api.messages.send.mutate(message),
      a.client.api.messages.send.mutate(message),
    ]);
    expect(second.seq).toBe(first.seq);
    expect([first.duplicate, second.duplicate].sort()).toEqual([false, true]);
    const again = await a.client.api.messages.send.mutate(message);
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    expect((await b.client.api.messages.list.query({ conversationId: id })).messages).toHaveLength(
      1,
    );
  });

  it('pages history newest first with a bounded page size', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    for (let i = 0; i < 7; i++) await a.client.api.messages.send.mutate(opaqueMessage(id, 0));
    const first = await b.client.api.messages.list.query({ conversationId: id, limit: 3 });
    expect(first.messages.map((m) => m.seq)).toEqual(
      [...first.messages.map((m) => m.seq)].sort((x, y) => y - x),
    );
    const second = await b.client.api.messages.list.query({
      conversationId: id,
      limit: 3,
      before: first.nextBefore!,
    });
    const third = await b.client.api.messages.list.query({
      conversationId: id,
      limit: 3,
      before: second.nextBefore!,
    });
    expect([...first.messages, ...second.messages, ...third.messages]).toHaveLength(7);
    expect(third.nextBefore).toBeNull();
    expect(await code(b.client.api.messages.list.query({ conversationId: id, limit: 101 }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('counts unread messages and honours the read-receipt setting', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    const sent = [];
    for (let i = 0; i < 3; i++)
      sent.push(await a.client.api.messages.send.mutate(opaqueMessage(id, 0)));
    const unread = async () =>
      (await b.client.api.conversations.list.query()).find((c) => c.id === id)!.unread;
    expect(await unread()).toBe(3);
    await b.client.api.messages.markRead.mutate({ conversationId: id, seq: sent[1]!.seq });
    expect(await unread()).toBe(1);
    const seenByA = () => a.client.api.conversations.byId.query({ conversationId: id });
    expect((await seenByA()).members.find((m) => m.userId === b.id)!.lastReadSeq).toBe(
      sent[1]!.seq,
    );
    await b.client.api.settings.update.mutate({ sendReadReceipts: false });
    expect((await seenByA()).members.find((m) => m.userId === b.id)!.lastReadSeq).toBeNull();
  });

  it('erases a deleted message for everyone', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    const message = opaqueMessage(id, 0);
    await a.client.api.messages.send.mutate(message);
    await a.client.api.messages.delete.mutate({
      conversationId: id,
      clientMessageId: message.clientMessageId,
    });
    const [stored] = (await b.client.api.messages.list.query({ conversationId: id })).messages;
    expect(stored).toMatchObject({ deleted: true, ciphertext: null });
  });
});

describe('key directory', () => {
  it('hands each one-time prekey out once', async () => {
    const [a, b] = await pair();
    const claims = await Promise.all(
      [1, 2, 3, 4].map(() => a.client.api.keys.claimPrekeys.mutate({ userIds: [b.id] })),
    );
    const ids = claims.map((c) => c[0]!.oneTimePrekey?.prekeyId).filter((x) => x !== undefined);
    expect(ids.sort()).toEqual([1, 2, 3]);
    expect(claims.filter((c) => c[0]!.oneTimePrekey === null)).toHaveLength(1);
    expect(claims.every((c) => c[0]!.signedPrekey?.prekeyId === 1)).toBe(true);
  });

  it('rotates every conversation of a user whose devices changed before the next message', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    await a.client.api.messages.send.mutate(opaqueMessage(id, 0));
    const [list] = await b.client.api.keys.deviceLists.query({ userIds: [b.id] });
    const added = randomBytes(16).toString('hex');
    await b.client.api.keys.publishDeviceList.mutate({
      version: 2,
      signingKey: list!.signingKey,
      list: randomBytes(200).toString('base64url'),
      devices: [
        { id: b.deviceId, cert: 'AAAA' },
        { id: added, cert: 'AAAA' },
      ],
    });
    expect(await code(a.client.api.messages.send.mutate(opaqueMessage(id, 0)))).toBe(
      'PRECONDITION_FAILED',
    );
    // The next epoch must reach the new device too.
    expect(await code(opaqueCommit(a, id, 0, devicesOf(a, b)))).toBe('PRECONDITION_FAILED');
    await opaqueCommit(a, id, 0, [...devicesOf(a, b), { userId: b.id, deviceId: added }]);
    await a.client.api.messages.send.mutate(opaqueMessage(id, 1));
  });

  it('refuses a device list that does not move its version forward', async () => {
    const a = await opaqueUser(server.url);
    const [list] = await a.client.api.keys.deviceLists.query({ userIds: [a.id] });
    const again = a.client.api.keys.publishDeviceList.mutate({
      version: 1,
      signingKey: list!.signingKey,
      list: list!.list,
      devices: [{ id: a.deviceId, cert: 'AAAA' }],
    });
    expect(await code(again)).toBe('PRECONDITION_FAILED');
  });
});

describe('events', () => {
  it('resumes after a dropped subscription with exactly the missed events, in order', async () => {
    const [a, b, id] = await pair();
    await opaqueCommit(a, id, null, devicesOf(a, b));
    const received: { id: string; data: any }[] = [];
    const subscribe = (lastEventId?: string) =>
      b.client.api.events.onEvent.subscribe(
        { streamId: `resume-${Math.random()}`, ...(lastEventId ? { lastEventId } : {}) },
        { onData: (event) => received.push(event) },
      );
    let sub = subscribe();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent: string[] = [];
    const send = async () => {
      const m = opaqueMessage(id, 0);
      sent.push(m.clientMessageId);
      await a.client.api.messages.send.mutate(m);
    };
    for (let i = 0; i < 3; i++) await send();
    await waitFor(() => received.length >= 3, 3000, 'live events');
    sub.unsubscribe();
    const last = received.at(-1)!.id;
    for (let i = 0; i < 4; i++) await send();
    sub = subscribe(last);
    await send();
    await waitFor(
      () => received.filter((e) => e.data.type === 'message').length >= 8,
      3000,
      'resumed events',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    sub.unsubscribe();
    const messages = received.filter((e) => e.data.type === 'message');
    expect(messages.map((e) => e.data.message.clientMessageId)).toEqual(sent);
    const ids = received.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('tells members who is typing, unless they opted out, and never the typist', async () => {
    const [a, b, id] = await pair();
    const seenByB: any[] = [];
    const seenByA: any[] = [];
    const subA = a.client.api.events.onEvent.subscribe(
      { streamId: 'typing-a-0001' },
      { onData: (e) => seenByA.push(e.data) },
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    // B coming online is announced to A, who shares a conversation with B.
    const subB = b.client.api.events.onEvent.subscribe(
      { streamId: 'typing-b-0001' },
      { onData: (e) => seenByB.push(e.data) },
    );
    await waitFor(
      () => seenByA.some((e) => e.type === 'presence' && e.userId === b.id && e.online),
      2000,
      'presence',
    );
    await a.client.api.messages.typing.mutate({ conversationId: id });
    await waitFor(() => seenByB.some((e) => e.type === 'typing'), 2000, 'typing');
    await a.client.api.settings.update.mutate({ sendTyping: false });
    await a.client.api.messages.typing.mutate({ conversationId: id });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seenByB.filter((e) => e.type === 'typing')).toHaveLength(1);
    expect(seenByA.filter((e) => e.type === 'typing')).toHaveLength(0);
    expect((await a.client.api.users.presence.query({ userIds: [b.id] }))[0]?.online).toBe(true);
    subA.unsubscribe();
    subB.unsubscribe();
  });
});
