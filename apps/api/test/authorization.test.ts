import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/router.ts';
import { opaqueCalendarEvent } from './calendar-fixtures.ts';
import {
  code,
  devicesOf,
  opaqueCommit,
  opaqueMessage,
  opaqueUser,
  type OpaqueUser,
} from './fixtures.ts';
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
/** For the device-linking cases: a random link handle, and random opaque bytes as base64url. */
const randomHandle = () => randomBytes(16).toString('hex');
const randomBlob = (n: number) => randomBytes(n).toString('base64url');

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
  // calendar.* cases
  'calendar.create': async () => {
    const content = opaqueMessage(conversationId, 0, 'calendar content');
    await alice.client.api.messages.send.mutate(content);
    await notFound(
      mallory.client.api.calendar.create.mutate({
        eventId: randomBytes(16).toString('hex'),
        conversationId,
        series: {
          allDay: false,
          start: '2027-03-01T10:00:00Z',
          end: '2027-03-01T11:00:00Z',
          timeZone: 'UTC',
          rrule: null,
          revision: 1,
          contentRef: content.clientMessageId,
        },
      }),
    );
  },
  'calendar.update': async () => {
    const { eventId, series } = await opaqueCalendarEvent(alice, conversationId, 0);
    await notFound(
      mallory.client.api.calendar.update.mutate({
        eventId,
        expectedRevision: 1,
        scope: 'all',
        series: { ...series, revision: 2 },
      }),
    );
  },
  'calendar.delete': async () => {
    const { eventId } = await opaqueCalendarEvent(alice, conversationId, 0);
    await notFound(
      mallory.client.api.calendar.delete.mutate({ eventId, expectedRevision: 1, scope: 'all' }),
    );
    expect((await alice.client.api.calendar.byId.query({ eventId })).id).toBe(eventId);
  },
  'calendar.listOccurrences': async () => {
    const range = { from: new Date('2027-03-01T00:00:00Z'), to: new Date('2027-03-02T00:00:00Z') };
    await opaqueCalendarEvent(alice, conversationId, 0, { attendees: [bob.id] });
    await notFound(mallory.client.api.calendar.listOccurrences.query({ ...range, conversationId }));
    expect((await mallory.client.api.calendar.listOccurrences.query(range)).events).toEqual([]);
  },
  'calendar.byId': async () => {
    const { eventId } = await opaqueCalendarEvent(alice, conversationId, 0);
    await notFound(mallory.client.api.calendar.byId.query({ eventId }));
  },
  'calendar.rsvp': async () => {
    const { eventId } = await opaqueCalendarEvent(alice, conversationId, 0, {
      attendees: [bob.id],
    });
    await notFound(
      mallory.client.api.calendar.rsvp.mutate({
        eventId,
        status: 'accepted',
        rsvpRef: randomBytes(16).toString('hex'),
      }),
    );
    // Answering one occurrence: the event is checked first, so nothing about it shows.
    await notFound(
      mallory.client.api.calendar.rsvp.mutate({
        eventId,
        status: 'declined',
        rsvpRef: randomBytes(16).toString('hex'),
        recurrenceId: '2027-03-01T10:00:00Z',
      }),
    );
  },
  'calendar.freeBusy': async () => {
    const { eventId } = await opaqueCalendarEvent(alice, conversationId, 0);
    // Someone who has never shared a conversation with alice (mallory may have by now).
    const stranger = await opaqueUser(server.url, 'stranger');
    expect(
      await code(
        stranger.client.api.calendar.freeBusy.query({
          userIds: [alice.id],
          from: new Date('2027-03-01T00:00:00Z'),
          to: new Date('2027-03-02T00:00:00Z'),
        }),
      ),
    ).toBe('FORBIDDEN');
    // Her own time with alice's event left out would show that event's times by difference.
    await notFound(
      mallory.client.api.calendar.freeBusy.query({
        userIds: [mallory.id],
        from: new Date('2027-03-01T00:00:00Z'),
        to: new Date('2027-03-02T00:00:00Z'),
        excludeEventId: eventId,
      }),
    );
  },
  // end of calendar.* cases
  // device linking, key backup and device management cases
  'devices.list': async () => {
    const mine = await mallory.client.api.devices.list.query();
    expect(mine.map((d) => d.id)).toEqual([mallory.deviceId]);
  },
  'devices.rename': async () => {
    // Well formed as far as the server can tell (it cannot check the signature), as mallory's.
    const signedName = Buffer.concat([
      Buffer.of(1),
      Buffer.from(mallory.id, 'hex'),
      Buffer.from(alice.deviceId, 'hex'),
      Buffer.alloc(8),
      Buffer.of(0, 8),
      Buffer.from('mine now'),
      Buffer.alloc(64),
    ]).toString('base64url');
    await notFound(
      mallory.client.api.devices.rename.mutate({ deviceId: alice.deviceId, signedName }),
    );
    expect((await alice.client.api.devices.list.query())[0]?.signedName).toBeNull();
  },
  'devices.createLink': async () => {
    const handle = randomHandle();
    await refusedAs('UNAUTHORIZED')(
      nodeClient(server.url).api.devices.createLink.mutate({ handle, request: randomBlob(64) }),
    );
    // A request lives in its creator's account only: another user cannot see it.
    await mallory.client.api.devices.createLink.mutate({ handle, request: randomBlob(64) });
    await notFound(alice.client.api.devices.linkRequest.query({ handle }));
  },
  'devices.linkRequest': async () => {
    const handle = randomHandle();
    await alice.client.api.devices.createLink.mutate({ handle, request: randomBlob(64) });
    await notFound(mallory.client.api.devices.linkRequest.query({ handle }));
  },
  'devices.approveLink': async () => {
    const handle = randomHandle();
    await alice.client.api.devices.createLink.mutate({ handle, request: randomBlob(64) });
    await notFound(
      mallory.client.api.devices.approveLink.mutate({ handle, envelope: randomBlob(300) }),
    );
    expect((await alice.client.api.devices.linkStatus.query({ handle })).status).toBe('pending');
  },
  'devices.linkStatus': async () => {
    const handle = randomHandle();
    await alice.client.api.devices.createLink.mutate({ handle, request: randomBlob(64) });
    await notFound(mallory.client.api.devices.linkStatus.query({ handle }));
    // Not even another session of the same user: only the waiting device reads its reply.
    const otherSession = nodeClient(server.url);
    await otherSession.auth.login(alice.username, PASSWORD);
    await notFound(otherSession.api.devices.linkStatus.query({ handle }));
  },
  'devices.cancelLink': async () => {
    const handle = randomHandle();
    await alice.client.api.devices.createLink.mutate({ handle, request: randomBlob(64) });
    await notFound(mallory.client.api.devices.cancelLink.mutate({ handle }));
    expect((await alice.client.api.devices.linkStatus.query({ handle })).status).toBe('pending');
  },
  'backup.key': async () => {
    await alice.client.api.backup.setKey.mutate({ publicKey: randomBlob(32) });
    expect(await mallory.client.api.backup.key.query()).toBeNull();
  },
  'backup.setKey': async () => {
    // Only a registered device of the user may set it.
    const noDevice = nodeClient(server.url);
    await noDevice.auth.login(mallory.username, PASSWORD);
    await refusedAs('PRECONDITION_FAILED')(
      noDevice.api.backup.setKey.mutate({ publicKey: randomBlob(32) }),
    );
    await refusedAs('UNAUTHORIZED')(
      nodeClient(server.url).api.backup.setKey.mutate({ publicKey: randomBlob(32) }),
    );
  },
  'backup.putEntries': async () => {
    await notFound(
      mallory.client.api.backup.putEntries.mutate({
        entries: [{ conversationId, epoch: 0, entry: randomBlob(112) }],
      }),
    );
  },
  'backup.entries': async () => {
    await alice.client.api.backup.setKey.mutate({ publicKey: randomBlob(32) });
    await alice.client.api.backup.putEntries.mutate({
      entries: [{ conversationId, epoch: 0, entry: randomBlob(112) }],
    });
    expect((await alice.client.api.backup.entries.query({})).entries).not.toHaveLength(0);
    expect((await mallory.client.api.backup.entries.query({})).entries).toEqual([]);
  },
  'keys.deleteSecret': async () => {
    await alice.client.api.keys.putSecrets.mutate({
      secrets: [{ name: 'probe', value: randomBlob(40) }],
    });
    await notFound(mallory.client.api.keys.deleteSecret.mutate({ name: 'probe' }));
    expect((await alice.client.api.keys.secrets.query()).map((x) => x.name)).toContain('probe');
  },
  // end of device linking, key backup and device management cases
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
