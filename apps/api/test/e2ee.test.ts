import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  createClient,
  MemoryKeyStore,
  type ChatMessage,
  type ConversationSummary,
  type KeyStore,
  type SecureChatClient,
} from '@securechat/client';
import { createDb } from '@securechat/db';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { collect as collectEvents, person as register } from './fixtures.ts';
import {
  PASSWORD,
  startTestServer,
  testConfig,
  uniqueName,
  waitFor,
  type TestServer,
} from './harness.ts';

/** A user on the real client whose device is named after them. */
function person(url: string, prefix: string) {
  return register(url, prefix, { deviceName: `${prefix}'s laptop` });
}

/** Collects a client's decrypted events in the background, with the messages among them. */
function collect(client: SecureChatClient) {
  const collected = collectEvents(client);
  return {
    ...collected,
    messages: () => collected.events.flatMap((e) => (e.type === 'message' ? [e.message] : [])),
  };
}

/**
 * A device's storage that can stop the device at one write: that write fails and nothing after it
 * happens, as when a tab is closed or reloaded mid-way.
 */
class StoppableStore implements KeyStore {
  readonly #disk = new MemoryKeyStore();
  stopAt: ((key: string, value: unknown) => boolean) | null = null;
  get = <T>(key: string) => this.#disk.get<T>(key);
  keys = (prefix: string) => this.#disk.keys(prefix);
  delete = (key: string) => this.#disk.delete(key);
  async set(key: string, value: unknown): Promise<void> {
    if (this.stopAt?.(key, value)) throw new Error('device stopped');
    await this.#disk.set(key, value);
  }
  /** All or nothing, as an IndexedDB transaction: a stop at any entry writes none. */
  async setMany(entries: readonly (readonly [string, unknown])[]): Promise<void> {
    if (entries.some(([key, value]) => this.stopAt?.(key, value)))
      throw new Error('device stopped');
    await this.#disk.setMany(entries);
  }
}

/** A client on `keyStore`: a device that starts again on what it stored when given a token. */
function deviceOn(keyStore: KeyStore, deviceName: string, token?: string) {
  return createClient({
    url: server.url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    deviceName,
    keyStore,
    ...(token ? { token } : {}),
  });
}

/**
 * Alice on a device whose storage can stop it (`storage.stopAt`), in a direct conversation `id`
 * with Bob on a plain client. `restart()` starts her device again on what it stored.
 */
async function aliceOnStoppableDevice(prefix: string) {
  const bob = await person(server.url, `${prefix}-b`);
  const storage = new StoppableStore();
  const device = (token?: string) => deviceOn(storage, `${prefix}-a's laptop`, token);
  const alice = device();
  const me = await alice.auth.register(uniqueName(`${prefix}-a`), PASSWORD);
  await alice.devices.setup();
  const { id } = await alice.conversations.openDirect(bob.username);
  return { bob, storage, alice, me, id, restart: () => device(alice.token!) };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('end-to-end messaging', () => {
  it('round-trips a direct conversation: send, edit, react, reply, delete', async () => {
    const alice = await person(server.url, 'alice');
    const bob = await person(server.url, 'bob');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const bobEvents = collect(bob.client);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const hello = await alice.client.messages.send(id, { text: 'hello bob' });
    await waitFor(() => bobEvents.messages().some((m) => m.id === hello.id), 5000, 'bob receives');
    const received = bobEvents.messages().find((m) => m.id === hello.id)!;
    expect(received).toMatchObject({
      text: 'hello bob',
      sender: { id: alice.id, username: alice.username },
    });

    const reply = await bob.client.messages.send(id, { text: 'hi alice', replyTo: hello.id });
    await alice.client.messages.edit(id, hello.id, 'hello bob (edited)');
    await bob.client.messages.react(id, hello.id, '👍');
    const seenByBob = await bob.client.messages.list(id);
    const edited = seenByBob.find((m) => m.id === hello.id)!;
    expect(edited.text).toBe('hello bob (edited)');
    expect(edited.editedAt).toBeInstanceOf(Date);
    expect(edited.reactions).toEqual([{ emoji: '👍', userIds: [bob.id] }]);
    const seenByAlice = await alice.client.messages.list(id);
    expect(seenByAlice.find((m) => m.id === reply.id)).toMatchObject({
      text: 'hi alice',
      replyTo: hello.id,
    });

    await alice.client.messages.delete(id, hello.id);
    await waitFor(
      () => bobEvents.events.some((e) => e.type === 'message.deleted' && e.messageId === hello.id),
      5000,
      'delete',
    );
    const afterDelete = (await bob.client.messages.list(id)).find((m) => m.id === hello.id)!;
    expect(afterDelete).toMatchObject({ deleted: true, text: '' });
    await bobEvents.stop();
  });

  it('round-trips a group of three, and the title travels encrypted', async () => {
    const [a, b, c] = await Promise.all([
      person(server.url, 'ga'),
      person(server.url, 'gb'),
      person(server.url, 'gc'),
    ]);
    const { id } = await a.client.conversations.createGroup({
      title: 'Launch plans',
      members: [b.username, c.username],
    });
    await b.client.messages.send(id, { text: 'from b' });
    await c.client.messages.send(id, { text: 'from c' });
    const texts = (await a.client.messages.list(id)).map((m) => m.text);
    expect(texts).toEqual(['from c', 'from b']);
    expect((await c.client.messages.list(id)).map((m) => m.sender.username)).toEqual([
      c.username,
      b.username,
    ]);
    const listed = await b.client.conversations.list();
    // Bob learned the title by decrypting the control message in history.
    await b.client.messages.list(id);
    expect((await b.client.conversations.list()).find((x) => x.id === id)?.title).toBe(
      'Launch plans',
    );
    expect(listed.find((x) => x.id === id)?.kind).toBe('group');
  });

  it('cuts a removed member off from everything sent afterwards', async () => {
    const [a, b, c] = await Promise.all([
      person(server.url, 'ra'),
      person(server.url, 'rb'),
      person(server.url, 'rc'),
    ]);
    const { id } = await a.client.conversations.createGroup({
      title: 'Team',
      members: [b.username, c.username],
    });
    await a.client.messages.send(id, { text: 'before removal' });
    expect((await c.client.messages.list(id)).map((m) => m.text)).toContain('before removal');

    // C keeps a copy of what the server delivers to see that it cannot read the later message.
    const cEvents = collect(c.client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.client.conversations.removeMember(id, c.username);
    const after = await a.client.messages.send(id, { text: 'after removal' });
    expect((await b.client.messages.list(id)).map((m) => m.text)).toContain('after removal');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cEvents.messages().some((m) => m.id === after.id)).toBe(false);
    await expect(c.client.messages.list(id)).rejects.toThrow();
    await cEvents.stop();
  });

  it('does not let a member added later read earlier messages', async () => {
    const [a, b, late] = await Promise.all([
      person(server.url, 'la'),
      person(server.url, 'lb'),
      person(server.url, 'll'),
    ]);
    const { id } = await a.client.conversations.createGroup({
      title: 'Club',
      members: [b.username],
    });
    const before = await a.client.messages.send(id, { text: 'secret from before' });
    const addedAt = Date.now();
    await a.client.conversations.addMember(id, late.username);
    await a.client.messages.send(id, { text: 'welcome' });
    // The server hands the newcomer the whole history; the old epoch's keys never reached them.
    const seen = await late.client.messages.list(id);
    // Unreadable: the earlier message and the group's first title (its type is secret too).
    expect(seen.map((m) => m.text)).toEqual(['welcome', '', '']);
    const unreadable = seen.filter((m) => m.undecryptable);
    expect(unreadable.map((m) => m.id)).toContain(before.id);
    expect(unreadable).toHaveLength(2);
    expect(unreadable.every((m) => m.sentAt.getTime() <= addedAt)).toBe(true);
    expect((await late.client.conversations.list()).find((x) => x.id === id)?.title).toBe('Club');
  });

  it('keeps a canary out of the database file, its WAL and the server log', async () => {
    const alice = await person(server.url, 'ca');
    const bob = await person(server.url, 'cb');
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const { id } = await alice.client.conversations.openDirect(bob.username);
    await alice.client.messages.send(id, { text: `the secret is ${canary}` });
    expect((await bob.client.messages.list(id))[0]?.text).toBe(`the secret is ${canary}`);
    const { id: group } = await alice.client.conversations.createGroup({
      title: `title ${canary}`,
      members: [bob.username],
    });
    await bob.client.messages.list(group);
    for (const path of [server.app.databasePath, `${server.app.databasePath}-wal`]) {
      if (!existsSync(path)) continue;
      const content = readFileSync(path);
      expect(content.includes(canary), path).toBe(false);
      expect(content.includes(Buffer.from(canary, 'utf16le')), path).toBe(false);
    }
    expect(server.logs.join('\n')).not.toContain(canary);
  });

  it('keeps a message readable when the device stops between decrypting it and storing it', async () => {
    const alice = await person(server.url, 'stop-a');
    const storage = new StoppableStore();
    const device = (token?: string) => deviceOn(storage, "stop-b's laptop", token);
    const bob = device();
    const bobName = uniqueName('stop-b');
    await bob.auth.register(bobName, PASSWORD);
    await bob.devices.setup();
    const { id } = await alice.client.conversations.openDirect(bobName);
    await alice.client.messages.send(id, { text: 'before the stop' });
    expect((await bob.messages.list(id)).map((m) => m.text)).toEqual(['before the stop']);

    // Stopped at one message, the same device starts again on what it had stored, and reads it.
    const sent = await alice.client.messages.send(id, { text: 'read as the tab closed' });
    storage.stopAt = (key) => key.endsWith(`/message/${id}/${sent.id}`);
    await expect(bob.messages.list(id)).rejects.toThrow('device stopped');
    storage.stopAt = null;
    const restarted = device(bob.token!);
    expect((await restarted.messages.list(id)).map((m) => [m.text, m.undecryptable])).toEqual([
      ['read as the tab closed', false],
      ['before the stop', false],
    ]);
    // A write that fails on a device that keeps running: once its storage works again, it reads
    // the message too (a separate message, so the restarted device has not stored it already).
    const next = await alice.client.messages.send(id, { text: 'read after the write failed' });
    storage.stopAt = (key) => key.endsWith(`/message/${id}/${next.id}`);
    await expect(restarted.messages.list(id)).rejects.toThrow('device stopped');
    storage.stopAt = null;
    expect((await restarted.messages.list(id)).map((m) => [m.text, m.undecryptable])).toEqual([
      ['read after the write failed', false],
      ['read as the tab closed', false],
      ['before the stop', false],
    ]);
  });

  it('sends a message once when the device stops while sending it, and a retry finishes it', async () => {
    const setup = await aliceOnStoppableDevice('send-stop');
    const { bob, storage, id } = setup;
    let { alice } = setup;
    await alice.messages.send(id, { text: 'before the stops' });
    const restart = () => (alice = setup.restart());
    const unsent = async () =>
      (await alice.localHistory.messages(id)).filter((m) => m.seq === null).map((m) => m.text);

    /** Sends `text`, the device stopping at the write `stop` picks; restarts, and retries it. */
    const stopThenRetry = async (
      text: string,
      stop: (messageId: string) => NonNullable<StoppableStore['stopAt']>,
    ) => {
      const messageId = randomBytes(16).toString('hex');
      storage.stopAt = stop(messageId);
      await expect(alice.messages.send(id, { text, id: messageId })).rejects.toThrow(
        'device stopped',
      );
      storage.stopAt = null;
      restart();
      expect(await unsent()).toEqual([text]);
      await alice.messages.send(id, { text, id: messageId });
      expect(await unsent()).toEqual([]);
    };
    // Stopped before the request left: after the restart the message is there, not sent, and a
    // retry with its id sends it.
    const first = 'stopped before the request';
    await stopThenRetry(first, () => (key) => key.includes(`/epoch/${id}/`));
    // Stopped after the server took it, before the device wrote down the server's answer: after
    // the restart it is shown as not sent, and a retry sends the same bytes again, which the
    // server knows by their id. Bob gets it once, and no further chain index is used up.
    const second = 'stopped after the server took it';
    await stopThenRetry(
      second,
      (messageId) => (key, value) =>
        key.endsWith(`/message/${id}/${messageId}`) &&
        (value as { seq: number | null }).seq !== null,
    );
    // Stopped as the encrypted bytes were written down, with the chain index they use: neither is
    // stored, so the retry encrypts again at that same index, and Bob sees no index skipped.
    const third = 'stopped as its bytes were stored';
    await stopThenRetry(
      third,
      (messageId) => (key, value) =>
        key.endsWith(`/message/${id}/${messageId}`) &&
        (value as { outgoing?: unknown }).outgoing !== undefined,
    );

    await alice.messages.send(id, { text: 'after the stops' });
    const history = await bob.client.messages.list(id);
    expect(history.map((m) => [m.text, m.undecryptable])).toEqual([
      ['after the stops', false],
      [third, false],
      [second, false],
      [first, false],
      ['before the stops', false],
    ]);
    // No index was used for a message the server never kept: Bob sees no gap.
    expect(await bob.client.localHistory.missing(id)).toEqual([]);
  });

  it('lists what was left unsent after a restart, and sends it again in order', async () => {
    const { bob, storage, alice, id, restart } = await aliceOnStoppableDevice('left');
    const first = await alice.messages.send(id, { text: 'first' });
    // Three messages and an edit, each stopped as it is encrypted.
    storage.stopAt = (key) => key.includes(`/epoch/${id}/`);
    for (const text of ['second', 'third', 'not wanted after all']) {
      await expect(alice.messages.send(id, { text })).rejects.toThrow('device stopped');
    }
    await expect(alice.messages.edit(id, first.id, 'first, edited')).rejects.toThrow();
    storage.stopAt = null;

    const restarted = restart();
    const left = await restarted.localHistory.unsent();
    expect(left.map((m) => [m.conversationId, m.text, m.seq])).toEqual([
      [id, 'second', null],
      [id, 'third', null],
      [id, 'not wanted after all', null],
    ]);
    // The conversation list shows the newest of them, unsent, online and from this device's copy.
    const preview = async (list: Promise<ConversationSummary[] | null>) => {
      const message = (await list)?.find((c) => c.id === id)?.lastMessage;
      return [message?.text, message?.seq ?? null];
    };
    expect(await preview(restarted.conversations.list())).toEqual(['not wanted after all', null]);
    await restarted.localHistory.discardUnsent(id, left[2]!.id);
    expect(await preview(restarted.localHistory.conversations())).toEqual(['third', null]);
    for (const m of left.slice(0, 2)) await restarted.messages.resend(id, m.id);
    expect(await preview(restarted.conversations.list())).toEqual(['third', expect.any(Number)]);
    // A second resend of a message now sent does nothing.
    await restarted.messages.resend(id, left[0]!.id);
    expect(await restarted.localHistory.unsent()).toEqual([]);
    expect((await bob.client.messages.list(id)).map((m) => m.text)).toEqual([
      'third',
      'second',
      'first',
    ]);
    // Not a message of this device: refused.
    const reply = await bob.client.messages.send(id, { text: 'got them' });
    await expect(restarted.messages.resend(id, reply.id)).rejects.toThrow(TypeError);
  });

  it('retries a file message cut short as the file message it was', async () => {
    const { bob, storage, alice, id, restart } = await aliceOnStoppableDevice('file-stop');
    await alice.messages.send(id, { text: 'the plan follows' });
    // The file is uploaded; the device stops as it encrypts the message that carries its key.
    const messageId = randomBytes(16).toString('hex');
    storage.stopAt = (key) => key.includes(`/epoch/${id}/`);
    await expect(
      alice.files.send(id, new TextEncoder().encode('floor plan'), {
        name: 'plan.txt',
        mime: 'text/plain',
        caption: 'the plan',
        id: messageId,
      }),
    ).rejects.toThrow('device stopped');
    storage.stopAt = null;
    // The web app's Retry passes what it shows, the caption: the message is sent as stored.
    const restarted = restart();
    await restarted.messages.send(id, { text: 'the plan', id: messageId });
    const received = (await bob.client.messages.list(id)).find((m) => m.id === messageId)!;
    expect(received).toMatchObject({ text: 'the plan', file: { name: 'plan.txt' } });
    const opened = await new Response(bob.client.files.open(received.file!)).text();
    expect(opened).toBe('floor plan');
  });

  it('lists an edit or reaction that never reached the server, unshown until it is sent as stored', async () => {
    const { bob, storage, alice, me, id, restart } = await aliceOnStoppableDevice('unsent-mod');
    const sent = await alice.messages.send(id, { text: 'as first written' });
    // Each stops as it is encrypted (the tab closed), so neither reaches the server.
    storage.stopAt = (key) => key.includes(`/epoch/${id}/`);
    await expect(alice.messages.edit(id, sent.id, 'as edited offline')).rejects.toThrow(
      'device stopped',
    );
    await expect(alice.messages.react(id, sent.id, '🎉')).rejects.toThrow('device stopped');
    storage.stopAt = null;
    const restarted = restart();
    const shown = (messages: ChatMessage[]) =>
      messages.map((m) => ({
        text: m.text,
        edited: m.editedAt !== undefined,
        reactions: m.reactions,
      }));
    // Neither side shows them: the server does not have them.
    const expected = [{ text: 'as first written', edited: false, reactions: [] }];
    expect(shown(await restarted.localHistory.messages(id))).toEqual(expected);
    expect(shown(await bob.client.messages.list(id))).toEqual(expected);
    // The restarted device lists them, oldest first, and not among its unsent messages.
    const changes = await restarted.localHistory.unsentChanges();
    expect(
      changes.map(({ conversationId, target, change }) => [conversationId, target, change]),
    ).toEqual([
      [id, sent.id, { kind: 'edit', text: 'as edited offline' }],
      [id, sent.id, { kind: 'reaction', emoji: '🎉', remove: false }],
    ]);
    expect(await restarted.localHistory.unsent()).toEqual([]);
    // Sent as stored, they show on both sides.
    for (const change of changes) await restarted.messages.resend(id, change.id);
    const made = [
      { text: 'as edited offline', edited: true, reactions: [{ emoji: '🎉', userIds: [me.id] }] },
    ];
    expect(shown(await restarted.localHistory.messages(id))).toEqual(made);
    expect(shown(await bob.client.messages.list(id))).toEqual(made);
    expect(await restarted.localHistory.unsentChanges()).toEqual([]);
    // One dropped instead is gone, and never sent.
    storage.stopAt = (key) => key.includes(`/epoch/${id}/`);
    await expect(restarted.messages.edit(id, sent.id, 'not wanted after all')).rejects.toThrow();
    storage.stopAt = null;
    const [dropped] = await restarted.localHistory.unsentChanges();
    await restarted.localHistory.discardUnsent(id, dropped!.id);
    expect(await restarted.localHistory.unsentChanges()).toEqual([]);
    await expect(restarted.messages.resend(id, dropped!.id)).rejects.toThrow(TypeError);
    expect(shown(await bob.client.messages.list(id))).toEqual(made);
  });

  it('refuses a message whose time the server changed from the one its sender signed', async () => {
    const alice = await person(server.url, 'ta');
    const bob = await person(server.url, 'tb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const early = await alice.client.messages.send(id, { text: 'sent on time' });
    const later = await alice.client.messages.send(id, { text: 'also on time' });
    const handle = createDb(server.app.databasePath);
    try {
      // An hour earlier, as if said before something it answers.
      handle.sqlite
        .prepare(
          'update messages set sent_at = sent_at - 3600000 where conversation_id = ? and client_message_id = ?',
        )
        .run(id, later.id);
    } finally {
      handle.close();
    }
    const seen = await bob.client.messages.list(id);
    expect(seen.find((m) => m.id === early.id)).toMatchObject({
      text: 'sent on time',
      undecryptable: false,
    });
    expect(seen.find((m) => m.id === later.id)).toMatchObject({ text: '', undecryptable: true });
  });

  it('sends a client message id once even when the same send is retried', async () => {
    const alice = await person(server.url, 'ia');
    const bob = await person(server.url, 'ib');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const first = await alice.client.messages.send(id, { text: 'once' });
    const page = await alice.client.api.messages.list.query({ conversationId: id });
    const stored = page.messages.find((m) => m.clientMessageId === first.id)!;
    const again = await alice.client.api.messages.send.mutate({
      conversationId: id,
      epoch: stored.epoch,
      clientMessageId: first.id,
      sentAt: stored.sentAt,
      ciphertext: stored.ciphertext!,
    });
    expect(again).toMatchObject({ seq: stored.seq, duplicate: true });
    expect((await bob.client.messages.list(id)).filter((m) => m.text === 'once')).toHaveLength(1);
  });

  it('resolves two concurrent commits: one wins, the other refreshes and succeeds', async () => {
    const alice = await person(server.url, 'xa');
    const bob = await person(server.url, 'xb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    // Both open the conversation's first epoch at once; each client retries on PRECONDITION_FAILED.
    const [x, y] = await Promise.all([
      alice.client.messages.send(id, { text: 'from alice' }),
      bob.client.messages.send(id, { text: 'from bob' }),
    ]);
    const history = await alice.client.messages.list(id);
    expect(history.map((m) => m.id).sort()).toEqual([x.id, y.id].sort());
    expect(history.every((m) => !m.undecryptable)).toBe(true);
  });

  it('reports a mistyped recovery key clearly and recovers with the right one', async () => {
    const alice = createClient({
      url: server.url,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const name = uniqueName('rk');
    await alice.auth.register(name, PASSWORD);
    const { recoveryKey } = await alice.devices.setup();
    const second = createClient({
      url: server.url,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    await second.auth.login(name, PASSWORD);
    const typo =
      recoveryKey.slice(0, 5) + (recoveryKey[5] === 'A' ? 'B' : 'A') + recoveryKey.slice(6);
    await expect(second.devices.recover(typo)).rejects.toThrow(/recovery key|checksum|typo/i);
    expect(await second.devices.isSetUp()).toBe(false);
    await second.devices.recover(recoveryKey);
    expect(await second.devices.isSetUp()).toBe(true);
  });
});

describe('resuming events', () => {
  it('delivers every message exactly once, in order, after the subscription drops', async () => {
    const alice = await person(server.url, 'sa');
    const bob = await person(server.url, 'sb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    // Sent before Bob's first subscription: a device's first stream starts where it was added.
    await alice.client.messages.send(id, { text: 'm0' });
    let stream = collect(bob.client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const text of ['m1', 'm2']) await alice.client.messages.send(id, { text });
    await waitFor(() => stream.messages().length === 3, 5000, 'first three');
    const firstBatch = stream.messages().map((m) => m.text);
    await stream.stop();
    for (const text of ['m3', 'm4', 'm5']) await alice.client.messages.send(id, { text });
    stream = collect(bob.client);
    await waitFor(() => stream.messages().length === 3, 5000, 'missed three');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([...firstBatch, ...stream.messages().map((m) => m.text)]).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    await stream.stop();
  });

  it('delivers every message exactly once, in order, across a server restart', async () => {
    const config = testConfig(server.dataDir, { LOG_LEVEL: 'silent' });
    let app = await startApp(config, createLogger('silent'));
    const url = `http://127.0.0.1:${app.port}`;
    const alice = await person(url, 'pa');
    const bob = await person(url, 'pb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const stream = collect(bob.client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await alice.client.messages.send(id, { text: 'r1' });
    await waitFor(() => stream.messages().length === 1, 5000, 'before restart');

    await app.close();
    app = await startApp({ ...config, port: app.port }, createLogger('silent'));
    for (const text of ['r2', 'r3', 'r4']) await alice.client.messages.send(id, { text });
    await waitFor(() => stream.messages().length === 4, 15000, 'after restart');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.messages().map((m) => m.text)).toEqual(['r1', 'r2', 'r3', 'r4']);
    await stream.stop();
    alice.client.close();
    bob.client.close();
    await app.close();
  });
});
