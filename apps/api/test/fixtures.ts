import { randomBytes } from 'node:crypto';
import {
  apiErrorCode,
  createClient,
  type ClientEvent,
  type SecureChatClient,
} from '@securechat/client';
import WebSocket from 'ws';
import { PASSWORD, nodeClient, uniqueName } from './harness.ts';

const b64 = (bytes: Buffer) => bytes.toString('base64url');

export interface OpaqueUser {
  client: SecureChatClient;
  id: string;
  username: string;
  deviceId: string;
}

/**
 * A signed-in user with one registered device whose key material is random bytes: the server
 * never parses keys, so server-level tests need no cryptography. End-to-end tests use the real
 * client and packages/crypto.
 */
export async function opaqueUser(url: string, prefix = 'u'): Promise<OpaqueUser> {
  const client = nodeClient(url);
  const username = uniqueName(prefix);
  const user = await client.auth.register(username, PASSWORD);
  const deviceId = randomBytes(16).toString('hex');
  await client.api.keys.publishDeviceList.mutate({
    version: 1,
    signingKey: b64(randomBytes(32)),
    list: b64(randomBytes(200)),
    devices: [{ id: deviceId, cert: b64(randomBytes(150)) }],
  });
  await client.api.keys.registerDevice.mutate({
    deviceId,
    signedPrekey: { prekeyId: 1, bundle: b64(randomBytes(100)) },
    oneTimePrekeys: [1, 2, 3].map((prekeyId) => ({ prekeyId, bundle: b64(randomBytes(100)) })),
  });
  return { client, id: user.id, username, deviceId };
}

/** Commits the next epoch with an opaque roster and an envelope for every other device. */
export async function opaqueCommit(
  by: OpaqueUser,
  conversationId: string,
  expectedEpoch: number | null,
  devices: { userId: string; deviceId: string }[],
  change: { add?: { userId: string; role?: 'admin' | 'member' }[]; remove?: string[] } = {},
) {
  return by.client.api.conversations.commit.mutate({
    conversationId,
    expectedEpoch,
    roster: b64(randomBytes(300)),
    add: (change.add ?? []).map((a) => ({ userId: a.userId, role: a.role ?? 'member' })),
    remove: change.remove ?? [],
    envelopes: devices
      .filter((d) => d.deviceId !== by.deviceId)
      .map((d) => ({
        recipientUserId: d.userId,
        recipientDeviceId: d.deviceId,
        envelope: b64(randomBytes(200)),
      })),
  });
}

export function opaqueMessage(conversationId: string, epoch: number, text = 'ciphertext') {
  return {
    conversationId,
    epoch,
    clientMessageId: randomBytes(16).toString('hex'),
    sentAt: new Date(),
    ciphertext: b64(Buffer.concat([Buffer.from(text), randomBytes(64)])),
  };
}

export const devicesOf = (...users: OpaqueUser[]) =>
  users.map((u) => ({ userId: u.id, deviceId: u.deviceId }));

/** A user of the real client (packages/client with packages/crypto), encryption set up. */
export interface Person {
  client: SecureChatClient;
  id: string;
  username: string;
  /** From the first device's setup, for {@link anotherDevice}. */
  recoveryKey: string;
}

/** Registers a user with the real client and sets up encryption on its first device. */
export async function person(
  url: string,
  prefix: string,
  options: { deviceName?: string } = {},
): Promise<Person> {
  const client = createClient({
    url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    ...options,
  });
  const username = uniqueName(prefix);
  const user = await client.auth.register(username, PASSWORD);
  const { recoveryKey } = await client.devices.setup();
  return { client, id: user.id, username, recoveryKey };
}

/** A further device of `who`, signed in and unlocked with their recovery key. */
export async function anotherDevice(url: string, who: Person, deviceName: string): Promise<Person> {
  const client = createClient({
    url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    deviceName,
  });
  await client.auth.login(who.username, PASSWORD);
  await client.devices.recover(who.recoveryKey);
  return { ...who, client };
}

/** Registers one person per prefix, one after the other (see `person`). */
export async function people<const P extends readonly string[]>(
  url: string,
  ...prefixes: P
): Promise<{ [K in keyof P]: Person }> {
  const registered: Person[] = [];
  for (const prefix of prefixes) registered.push(await person(url, prefix));
  return registered as { [K in keyof P]: Person };
}

/** `owner` creates a group conversation titled `title` with `members`; resolves to its id. */
export async function createGroup(
  owner: Person,
  title: string,
  members: Person[],
): Promise<string> {
  const { id } = await owner.client.conversations.createGroup({
    title,
    members: members.map((member) => member.username),
  });
  return id;
}

/** Collects a client's decrypted events in the background until `stop`. */
export function collect(client: SecureChatClient) {
  const events: ClientEvent[] = [];
  const stream = client.events();
  const done = (async () => {
    for await (const event of stream) events.push(event);
  })().catch(() => {});
  return {
    events,
    async stop() {
      await stream.return?.(undefined);
      await done;
    },
  };
}

/** The tRPC error code a call fails with, or null when it succeeds. */
export async function code(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return apiErrorCode(error);
  }
}

/** Reads a byte stream to its end. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    chunks.push(value);
  }
}
