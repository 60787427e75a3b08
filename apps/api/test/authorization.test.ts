import { randomBytes } from 'node:crypto';
import { apiErrorCode } from '@securechat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/router.ts';
import { devicesOf, opaqueCommit, opaqueMessage, opaqueUser, type OpaqueUser } from './fixtures.ts';
import { PASSWORD, nodeClient, startTestServer, waitFor, type TestServer } from './harness.ts';

/**
 * One test per procedure proving that a signed-in outsider (mallory) cannot reach what is not
 * hers: alice and bob share a direct conversation; mallory shares nothing with them. The last
 * test fails when a procedure is added without a case here.
 */
let server: TestServer;
let alice: OpaqueUser;
let bob: OpaqueUser;
let mallory: OpaqueUser;
let conversationId: string;
let messageId: string;

async function code(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return apiErrorCode(error);
  }
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await opaqueUser(server.url, 'alice');
  bob = await opaqueUser(server.url, 'bob');
  mallory = await opaqueUser(server.url, 'mallory');
  ({ id: conversationId } = await alice.client.api.conversations.openDirect.mutate({
    username: bob.username,
  }));
  await opaqueCommit(alice, conversationId, null, devicesOf(alice, bob));
  const message = opaqueMessage(conversationId, 0);
  await alice.client.api.messages.send.mutate(message);
  messageId = message.clientMessageId;
});
afterAll(async () => {
  await server.close();
});

const refusedAs = (expected: string) => async (promise: Promise<unknown>) =>
  expect(await code(promise)).toBe(expected);
const notFound = refusedAs('NOT_FOUND');

const cases: Record<string, () => Promise<void>> = {
  'auth.register': async () => {
    expect(
      await code(nodeClient(server.url).auth.register(alice.username.toUpperCase(), PASSWORD)),
    ).toBe('CONFLICT');
  },
  'auth.login': async () => {
    expect(
      await code(nodeClient(server.url).auth.login(alice.username, 'mallory guesses this')),
    ).toBe('UNAUTHORIZED');
  },
  'auth.logout': async () => {
    const extra = nodeClient(server.url);
    await extra.auth.login(mallory.username, PASSWORD);
    await extra.auth.logout();
    expect(await alice.client.api.auth.me.query()).not.toBeNull();
  },
  'auth.me': async () => {
    expect((await mallory.client.api.auth.me.query())?.id).toBe(mallory.id);
    expect(await nodeClient(server.url).api.auth.me.query()).toBeNull();
  },
  'auth.changePassword': async () => {
    const other = await opaqueUser(server.url, 'pw');
    await other.client.api.auth.changePassword.mutate({
      current: PASSWORD,
      next: 'another fine passphrase',
    });
    await nodeClient(server.url).auth.login(alice.username, PASSWORD);
  },
  'auth.sessions.list': async () => {
    const mine = await mallory.client.api.auth.sessions.list.query();
    const alices = await alice.client.api.auth.sessions.list.query();
    expect(mine.map((s) => s.id)).not.toContain(alices[0]!.id);
  },
  'auth.sessions.revoke': async () => {
    const [session] = await alice.client.api.auth.sessions.list.query();
    await notFound(mallory.client.api.auth.sessions.revoke.mutate({ id: session!.id }));
  },
  'auth.sessions.onChange': async () => {
    let received = 0;
    const sub = mallory.client.api.auth.sessions.onChange.subscribe(undefined, {
      onData: () => received++,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await nodeClient(server.url).auth.login(alice.username, PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 200));
    sub.unsubscribe();
    expect(received).toBe(0);
  },
  'users.byUsername': async () => {
    expect(
      await code(nodeClient(server.url).api.users.byUsername.query({ username: alice.username })),
    ).toBe('UNAUTHORIZED');
  },
  'users.presence': async () => {
    expect(await mallory.client.api.users.presence.query({ userIds: [alice.id] })).toEqual([]);
    expect((await bob.client.api.users.presence.query({ userIds: [alice.id] })).length).toBe(1);
  },
  'keys.publishDeviceList': async () => {
    const result = await code(
      mallory.client.api.keys.publishDeviceList.mutate({
        version: 2,
        signingKey: randomBytes(32).toString('base64url'),
        list: 'AAAA',
        devices: [{ id: alice.deviceId, cert: 'AAAA' }],
      }),
    );
    expect(result).toBe('CONFLICT');
  },
  'keys.registerDevice': async () => {
    await notFound(
      mallory.client.api.keys.registerDevice.mutate({
        deviceId: alice.deviceId,
        signedPrekey: { prekeyId: 9, bundle: 'AAAA' },
        oneTimePrekeys: [],
      }),
    );
  },
  'keys.uploadPrekeys': async () => {
    const fresh = nodeClient(server.url);
    await fresh.auth.register(`np${randomBytes(4).toString('hex')}`, PASSWORD);
    expect(await code(fresh.api.keys.uploadPrekeys.mutate({ oneTimePrekeys: [] }))).toBe(
      'PRECONDITION_FAILED',
    );
    expect(
      await code(nodeClient(server.url).api.keys.uploadPrekeys.mutate({ oneTimePrekeys: [] })),
    ).toBe('UNAUTHORIZED');
  },
  'keys.prekeyCount': async () => {
    expect(await code(nodeClient(server.url).api.keys.prekeyCount.query())).toBe('UNAUTHORIZED');
    expect((await mallory.client.api.keys.prekeyCount.query()).oneTimePrekeys).toBe(3);
  },
  'keys.deviceLists': async () => {
    expect(
      await code(nodeClient(server.url).api.keys.deviceLists.query({ userIds: [alice.id] })),
    ).toBe('UNAUTHORIZED');
  },
  'keys.deviceListChain': async () => {
    const anonymous = nodeClient(server.url).api.keys.deviceListChain.query({
      userId: alice.id,
      afterVersion: 0,
    });
    expect(await code(anonymous)).toBe('UNAUTHORIZED');
    expect(
      await mallory.client.api.keys.deviceListChain.query({ userId: alice.id, afterVersion: 0 }),
    ).toHaveLength(1);
  },
  'keys.claimPrekeys': async () => {
    // Bundles are public key material (as in Signal): any signed-in user may claim, nobody else.
    const anonymous = nodeClient(server.url).api.keys.claimPrekeys.mutate({ userIds: [alice.id] });
    expect(await code(anonymous)).toBe('UNAUTHORIZED');
    const [bundle] = await mallory.client.api.keys.claimPrekeys.mutate({ userIds: [alice.id] });
    expect(Object.keys(bundle!).sort()).toEqual([
      'cert',
      'deviceId',
      'oneTimePrekey',
      'signedPrekey',
    ]);
  },
  'keys.putSecrets': async () => {
    await alice.client.api.keys.putSecrets.mutate({
      secrets: [{ name: 'usk', value: 'c2VjcmV0' }],
    });
    await mallory.client.api.keys.putSecrets.mutate({
      secrets: [{ name: 'usk', value: 'bWluZQ' }],
    });
    expect(await alice.client.api.keys.secrets.query()).toEqual([
      { name: 'usk', value: 'c2VjcmV0' },
    ]);
  },
  'keys.secrets': async () => {
    const mine = await mallory.client.api.keys.secrets.query();
    expect(mine.every((s) => s.value !== 'c2VjcmV0')).toBe(true);
  },
  'conversations.openDirect': async () => {
    const { id } = await mallory.client.api.conversations.openDirect.mutate({
      username: alice.username,
    });
    expect(id).not.toBe(conversationId);
  },
  'conversations.openNotes': async () => {
    const a = await alice.client.api.conversations.openNotes.mutate();
    const m = await mallory.client.api.conversations.openNotes.mutate();
    expect(a.id).not.toBe(m.id);
    await notFound(mallory.client.api.conversations.byId.query({ conversationId: a.id }));
  },
  'conversations.createGroup': async () => {
    const { id } = await mallory.client.api.conversations.createGroup.mutate({ members: [] });
    await notFound(alice.client.api.conversations.byId.query({ conversationId: id }));
  },
  'conversations.list': async () => {
    const list = await mallory.client.api.conversations.list.query();
    expect(list.map((c) => c.id)).not.toContain(conversationId);
  },
  'conversations.byId': () =>
    notFound(mallory.client.api.conversations.byId.query({ conversationId })),
  'conversations.keyState': () =>
    notFound(mallory.client.api.conversations.keyState.query({ conversationId })),
  'conversations.roster': () =>
    notFound(mallory.client.api.conversations.roster.query({ conversationId, epoch: 0 })),
  'conversations.commit': () =>
    notFound(opaqueCommit(mallory, conversationId, 0, devicesOf(alice, bob, mallory))),
  'conversations.leave': () =>
    notFound(mallory.client.api.conversations.leave.mutate({ conversationId })),
  'messages.send': () =>
    notFound(mallory.client.api.messages.send.mutate(opaqueMessage(conversationId, 0))),
  'messages.list': () => notFound(mallory.client.api.messages.list.query({ conversationId })),
  'messages.delete': async () => {
    await notFound(
      mallory.client.api.messages.delete.mutate({ conversationId, clientMessageId: messageId }),
    );
    expect(
      await code(
        bob.client.api.messages.delete.mutate({ conversationId, clientMessageId: messageId }),
      ),
    ).toBe('FORBIDDEN');
  },
  'messages.markRead': () =>
    notFound(mallory.client.api.messages.markRead.mutate({ conversationId, seq: 1 })),
  'messages.typing': () => notFound(mallory.client.api.messages.typing.mutate({ conversationId })),
  'events.onEvent': async () => {
    const seen: unknown[] = [];
    const sub = mallory.client.api.events.onEvent.subscribe(
      { streamId: 'mallory-stream-1' },
      { onData: (e) => seen.push(e) },
    );
    const bobs: unknown[] = [];
    const bobSub = bob.client.api.events.onEvent.subscribe(
      { streamId: 'bob-stream-1' },
      { onData: (e) => bobs.push(e) },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await alice.client.api.messages.send.mutate(opaqueMessage(conversationId, 0));
    await waitFor(() => bobs.some((e: any) => e.data.type === 'message'), 3000, 'bob to receive');
    sub.unsubscribe();
    bobSub.unsubscribe();
    expect(seen.filter((e: any) => e.data.type === 'message')).toEqual([]);
  },
  'files.createUpload': () =>
    notFound(mallory.client.api.files.createUpload.mutate({ conversationId, size: 1 })),
  'files.complete': async () => {
    const { fileId } = await alice.client.api.files.createUpload.mutate({
      conversationId,
      size: 1,
    });
    await notFound(mallory.client.api.files.complete.mutate({ fileId, sha256: '0'.repeat(64) }));
  },
  'files.list': () => notFound(mallory.client.api.files.list.query({ conversationId })),
  'files.delete': async () => {
    const { fileId } = await alice.client.api.files.createUpload.mutate({
      conversationId,
      size: 0,
    });
    await fetch(`${server.url}/files/${fileId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${alice.client.token}` },
      body: '',
    });
    await alice.client.api.files.complete.mutate({
      fileId,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    await notFound(mallory.client.api.files.delete.mutate({ fileId }));
  },
  'files.usage': async () => {
    expect(await code(nodeClient(server.url).api.files.usage.query())).toBe('UNAUTHORIZED');
    expect((await mallory.client.api.files.usage.query()).usedBytes).toBe(0);
  },
  'server.info': async () => {
    // Public, and says nothing about anyone.
    expect(await nodeClient(server.url).api.server.info.query()).toEqual({ demo: false });
  },
  'settings.get': async () => {
    await alice.client.api.settings.update.mutate({ sendTyping: false });
    expect((await mallory.client.api.settings.get.query()).sendTyping).toBe(true);
    await alice.client.api.settings.update.mutate({ sendTyping: true });
  },
  'settings.update': async () => {
    await mallory.client.api.settings.update.mutate({ sendReadReceipts: false });
    expect((await alice.client.api.settings.get.query()).sendReadReceipts).toBe(true);
  },
};

describe('authorization: an outsider is refused', () => {
  for (const [path, run] of Object.entries(cases)) it(path, run);

  it('covers every procedure of the API', () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    const missing = procedures.filter((path) => !(path in cases));
    expect(missing, `procedures without an authorization test: ${missing.join(', ')}`).toEqual([]);
    expect(Object.keys(cases).filter((path) => !procedures.includes(path))).toEqual([]);
  });
});
