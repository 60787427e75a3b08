import { randomBytes } from 'node:crypto';
import {
  apiErrorCode,
  createClient,
  DeviceNameError,
  fieldErrors,
  LinkCodeError,
  LinkError,
  MemoryKeyStore,
  PassphraseError,
  RecoveryKeyError,
  WeakPassphraseError,
  checkPassphraseStrength,
  type SecureChatClient,
  type SecureChatClientOptions,
} from '@securechat/client';
import {
  AuthenticationError,
  createDeviceDirectory,
  decryptMessage,
  EpochState,
  fromBase64Url,
  fromHex,
  peekMessageHeader,
  type EpochStateData,
  type PinnedIdentity,
  type VerifiedDevice,
} from '@securechat/crypto';
import { createDb, type DbHandle } from '@securechat/db';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startTestServer, uniqueName, type TestServer } from './harness.ts';

/**
 * Multi-device (§3.3, §3.9): recovery with the recovery key or a passphrase restores history
 * from the key backup, linking hands a new device the keys and history, and revocation cuts a
 * device off from everything sent afterwards. Real server, real clients, real SQLite.
 */

let server: TestServer;
let handle: DbHandle;
beforeAll(async () => {
  server = await startTestServer();
  handle = createDb(server.app.databasePath);
});
afterAll(async () => {
  handle.close();
  await server.close();
});

const STRONG = 'orbit velvet cactus lantern mosaic thimble';

function device(
  name: string,
  keyStore = new MemoryKeyStore(),
  options: Pick<SecureChatClientOptions, 'fetch' | 'token'> = {},
): SecureChatClient {
  return createClient({
    url: server.url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    deviceName: name,
    keyStore,
    ...options,
  });
}

/** A user with a first device, a contact, and a conversation with history in it. */
async function userWithHistory(prefix: string) {
  const name = uniqueName(prefix);
  const first = device(`${prefix} laptop`);
  const me = await first.auth.register(name, PASSWORD);
  const { recoveryKey } = await first.devices.setup();
  const contact = device('contact phone');
  const contactName = uniqueName(`${prefix}c`);
  await contact.auth.register(contactName, PASSWORD);
  await contact.devices.setup();
  const { id: conversationId } = await first.conversations.openDirect(contactName);
  await first.messages.send(conversationId, { text: 'written before the new device' });
  await contact.messages.send(conversationId, { text: 'a reply from before' });
  // A second epoch, so history spans more than one key.
  await first.conversations.rotateAll();
  await first.messages.send(conversationId, { text: 'second epoch, still before' });
  return { name, me, first, recoveryKey, contact, contactName, conversationId };
}

async function listVersion(client: SecureChatClient, userId: string): Promise<number> {
  const [row] = await client.api.keys.deviceLists.query({ userIds: [userId] });
  return row!.version;
}

const textsOf = async (client: SecureChatClient, conversationId: string) =>
  (await client.messages.list(conversationId)).map((m) => (m.undecryptable ? '??' : m.text));

const BEFORE = [
  'second epoch, still before',
  'a reply from before',
  'written before the new device',
];

describe('key backup and recovery', () => {
  it('backs up every epoch as it is created, and a recovered device reads the history', async () => {
    const u = await userWithHistory('kb');
    // Both epochs were backed up by the device that created them (opaque to the server).
    const backup = await u.first.api.backup.entries.query({});
    expect(backup.entries.filter((e) => e.conversationId === u.conversationId)).toHaveLength(2);

    const second = device('kb desktop');
    await second.auth.login(u.name, PASSWORD);
    expect(await second.devices.status()).toBe('needs-recovery');
    const { restoredEpochs } = await second.devices.recover(u.recoveryKey);
    expect(restoredEpochs).toBe(2);
    expect(await textsOf(second, u.conversationId)).toEqual(BEFORE);
    // And it takes part from now on.
    await second.messages.send(u.conversationId, { text: 'from the recovered device' });
    expect((await textsOf(u.contact, u.conversationId))[0]).toBe('from the recovered device');
  });

  it('refuses a wrong recovery key clearly and changes nothing', async () => {
    const u = await userWithHistory('wk');
    const other = device('other');
    await other.auth.register(uniqueName('wko'), PASSWORD);
    const { recoveryKey: foreign } = await other.devices.setup();

    const second = device('wk desktop');
    await second.auth.login(u.name, PASSWORD);
    const version = await listVersion(second, u.me.id);
    const secrets = await second.api.keys.secrets.query();
    const error = await second.devices.recover(foreign).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveryKeyError);
    expect((error as Error).message).toMatch(/does not belong to this account/);
    const typo = u.recoveryKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    await expect(second.devices.recover(typo)).rejects.toThrow(/checksum|typo/);

    expect(await listVersion(second, u.me.id)).toBe(version);
    expect(await second.api.keys.secrets.query()).toEqual(secrets);
    expect(await second.devices.isSetUp()).toBe(false);
    expect(await second.devices.status()).toBe('needs-recovery');
    // The right key still works afterwards.
    await second.devices.recover(u.recoveryKey);
    expect(await textsOf(second, u.conversationId)).toEqual(BEFORE);
  });

  it('recovers with a passphrase, refusing weak and wrong ones without changing anything', async () => {
    const u = await userWithHistory('pp');
    expect(await u.first.devices.isBackingUp()).toBe(true);
    expect(await u.first.devices.hasPassphrase()).toBe(false);
    const weak = await u.first.devices.setPassphrase('password1234').catch((e: unknown) => e);
    expect(weak).toBeInstanceOf(WeakPassphraseError);
    expect((weak as WeakPassphraseError).strength.ok).toBe(false);
    await expect(u.first.devices.setPassphrase('correct horse battery')).rejects.toBeInstanceOf(
      WeakPassphraseError,
    );
    expect(await u.first.devices.hasPassphrase()).toBe(false);
    expect((await checkPassphraseStrength(STRONG)).ok).toBe(true);
    await u.first.devices.setPassphrase(STRONG);
    expect(await u.first.devices.hasPassphrase()).toBe(true);

    const second = device('pp tablet');
    await second.auth.login(u.name, PASSWORD);
    const version = await listVersion(second, u.me.id);
    const secrets = await second.api.keys.secrets.query();
    const wrong = await second.devices
      .recoverWithPassphrase('orbit velvet cactus lantern mosaic thimbles')
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PassphraseError);
    expect((wrong as Error).message).toMatch(/not the one set/);
    expect(await listVersion(second, u.me.id)).toBe(version);
    expect(await second.api.keys.secrets.query()).toEqual(secrets);
    expect(await second.devices.isSetUp()).toBe(false);

    await second.devices.recoverWithPassphrase(STRONG);
    expect(await textsOf(second, u.conversationId)).toEqual(BEFORE);

    // Removed: the passphrase no longer recovers; the recovery key still does.
    await u.first.devices.removePassphrase();
    const third = device('pp phone');
    await third.auth.login(u.name, PASSWORD);
    await expect(third.devices.recoverWithPassphrase(STRONG)).rejects.toThrow(
      /no recovery passphrase/,
    );
    await third.devices.recover(u.recoveryKey);
    expect(await textsOf(third, u.conversationId)).toEqual(BEFORE);
  }, 60_000);
});

describe('linking a new device (§3.3 flow A)', () => {
  it('links by the short code and the new device reads the history', async () => {
    const u = await userWithHistory('ln');
    const fresh = device('ln new browser');
    await fresh.auth.login(u.name, PASSWORD);
    const pending = await fresh.devices.startLink();
    expect(pending.code).toMatch(/^([0-9A-Z]{4}-){6}[0-9A-Z]{4}$/);
    expect(pending.qrText).toContain(pending.code);
    const version = await listVersion(u.first, u.me.id);

    // A typo, and a well-formed code for nothing: clear errors, nothing changes.
    const typo = pending.code.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const malformed = await u.first.devices.inspectLink(typo).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(LinkCodeError);
    expect((malformed as LinkCodeError).reason).toBe('malformed');
    // A withdrawn request's code (well-formed, matching nothing now).
    const stranger = device('stranger');
    await stranger.auth.login(u.name, PASSWORD);
    const withdrawn = await stranger.devices.startLink();
    await withdrawn.cancel();
    const wrong = await u.first.devices.inspectLink(withdrawn.code).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(LinkCodeError);
    expect((wrong as LinkCodeError).reason).toBe('not-found');
    expect((wrong as Error).message).toMatch(/No device is waiting with this code/);
    expect(await listVersion(u.first, u.me.id)).toBe(version);

    // The QR text works as well as the typed code.
    const preview = await u.first.devices.inspectLink(pending.qrText);
    expect(preview.deviceName).toBe('ln new browser');
    const waiting = pending.wait({ pollMs: 100 });
    await preview.approve();
    await waiting;
    expect(await listVersion(u.first, u.me.id)).toBe(version + 1);
    expect(await fresh.devices.status()).toBe('ready');
    expect(await textsOf(fresh, u.conversationId)).toEqual(BEFORE);
    // The list shows the new device with its name.
    const names = (await u.first.devices.list()).map((d) => d.name);
    expect(names).toEqual(['ln laptop', 'ln new browser']);
    // The list changed, so the conversation must rotate before the next message (§3.7)...
    const [before] = await u.first.api.conversations.list.query();
    expect(before!.needsRotation).toBe(true);
    // ...which the next sender does: here the new device, and the contact reads it.
    await fresh.messages.send(u.conversationId, { text: 'hello from the linked browser' });
    const [after] = await u.first.api.conversations.list.query();
    expect(after!.epoch).toBe(before!.epoch! + 1);
    expect(after!.needsRotation).toBe(false);
    expect((await textsOf(u.contact, u.conversationId))[0]).toBe('hello from the linked browser');
    // A used code is gone.
    await expect(u.first.devices.inspectLink(pending.code)).rejects.toMatchObject({
      reason: 'not-found',
    });
  });

  it('finishes a link retried after a lost answer with the prekeys the server holds', async () => {
    const u = await userWithHistory('lr');
    // The first registration reaches the server, but its answer never comes back.
    let loseAnswer = true;
    const lossyFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (
        loseAnswer &&
        String(input instanceof Request ? input.url : input).includes('keys.registerDevice')
      ) {
        loseAnswer = false;
        throw new TypeError('fetch failed');
      }
      return response;
    };
    const fresh = device('lr new browser', new MemoryKeyStore(), { fetch: lossyFetch });
    await fresh.auth.login(u.name, PASSWORD);
    const pending = await fresh.devices.startLink();
    const preview = await u.first.devices.inspectLink(pending.code);
    const waiting = pending.wait({ pollMs: 50 });
    await preview.approve();
    await expect(waiting).rejects.toThrow();
    expect(loseAnswer).toBe(false);
    await pending.wait({ pollMs: 50 });
    expect(await fresh.devices.status()).toBe('ready');
    expect(await textsOf(fresh, u.conversationId)).toEqual(BEFORE);

    // A new contact's first message seals the key to a one-time prekey the server handed out:
    // the linked device holds its private key.
    const stranger = device('lr stranger');
    const strangerName = uniqueName('lrs');
    await stranger.auth.register(strangerName, PASSWORD);
    await stranger.devices.setup();
    const { id } = await stranger.conversations.openDirect(u.name);
    await stranger.messages.send(id, { text: 'sealed to a one-time prekey' });
    expect(await textsOf(fresh, id)).toEqual(['sealed to a one-time prekey']);
  });

  it('resumes a link after the new device restarts, even once it was approved', async () => {
    const u = await userWithHistory('rs');
    const keyStore = new MemoryKeyStore();
    const before = device('rs new browser', keyStore);
    await before.auth.login(u.name, PASSWORD);
    const pending = await before.devices.startLink();
    // The other device approves while the new one is down.
    await (await u.first.devices.inspectLink(pending.code)).approve();

    // The same browser starts again: same key store, same session.
    const after = device('rs new browser', keyStore, { token: before.token });
    const resumed = await after.devices.startLink();
    expect(resumed.code).toBe(pending.code);
    await resumed.wait({ pollMs: 50 });
    expect(await after.devices.status()).toBe('ready');
    expect(await textsOf(after, u.conversationId)).toEqual(BEFORE);
    expect((await u.first.devices.list()).map((d) => d.name)).toEqual([
      'rs laptop',
      'rs new browser',
    ]);
  });

  it('starts a new link when the stored one was withdrawn or expired', async () => {
    const u = await userWithHistory('rw');
    const keyStore = new MemoryKeyStore();
    const fresh = device('rw new browser', keyStore);
    await fresh.auth.login(u.name, PASSWORD);
    const first = await fresh.devices.startLink();
    await first.cancel();
    const second = await fresh.devices.startLink();
    expect(second.code).not.toBe(first.code);
    // Gone from the server without a word to this device (it expired, say): a new code too.
    handle.sqlite.prepare('DELETE FROM link_requests WHERE user_id = ?').run(u.me.id);
    const third = await fresh.devices.startLink();
    expect(third.code).not.toBe(second.code);
    await third.cancel();
  });

  it('refuses a reply that is not sealed to the link secret (a substituted envelope)', async () => {
    const u = await userWithHistory('lt');
    const fresh = device('lt new browser');
    await fresh.auth.login(u.name, PASSWORD);
    const pending = await fresh.devices.startLink();
    // What a server (or anyone able to post for the account) could put there without the code.
    const rows = handle.sqlite
      .prepare('SELECT handle FROM link_requests WHERE user_id = ?')
      .all(u.me.id) as { handle: string }[];
    expect(rows).toHaveLength(1);
    await u.first.api.devices.approveLink.mutate({
      handle: rows[0]!.handle,
      envelope: randomBytes(400).toString('base64url'),
    });
    const failure = await pending.wait({ pollMs: 50 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LinkError);
    expect((failure as LinkError).reason).toBe('invalid');
    expect(await fresh.devices.isSetUp()).toBe(false);
    expect(await fresh.devices.status()).toBe('needs-recovery');
  });

  it('refuses a request whose keys the relay swapped, so no ghost device is added', async () => {
    const u = await userWithHistory('lg');
    const fresh = device('lg new browser');
    await fresh.auth.login(u.name, PASSWORD);
    const pending = await fresh.devices.startLink();
    // The server puts another device's sealed request (keys it controls) behind this code.
    const ghost = device('lg ghost');
    await ghost.auth.login(u.name, PASSWORD);
    await ghost.devices.startLink();
    const rows = handle.sqlite
      .prepare('SELECT handle, request FROM link_requests WHERE user_id = ?')
      .all(u.me.id) as { handle: string; request: Buffer }[];
    expect(rows).toHaveLength(2);
    // Swapped both ways, so whichever row is this code's now holds the other device's keys.
    const swap = handle.sqlite.prepare('UPDATE link_requests SET request = ? WHERE handle = ?');
    swap.run(rows[1]!.request, rows[0]!.handle);
    swap.run(rows[0]!.request, rows[1]!.handle);
    const version = await listVersion(u.first, u.me.id);
    await expect(u.first.devices.inspectLink(pending.code)).rejects.toBeInstanceOf(LinkCodeError);
    expect(await listVersion(u.first, u.me.id)).toBe(version);
  });

  it('refuses an expired code on both sides and changes nothing', async () => {
    const u = await userWithHistory('lx');
    const fresh = device('lx new browser');
    await fresh.auth.login(u.name, PASSWORD);
    const pending = await fresh.devices.startLink();
    const version = await listVersion(u.first, u.me.id);
    handle.sqlite
      .prepare('UPDATE link_requests SET expires_at = ? WHERE user_id = ?')
      .run(Date.now() - 1000, u.me.id);
    await expect(u.first.devices.inspectLink(pending.code)).rejects.toMatchObject({
      name: 'LinkCodeError',
      reason: 'not-found',
    });
    const failure = await pending.wait({ pollMs: 50 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LinkError);
    expect((failure as LinkError).reason).toBe('expired');
    expect(await listVersion(u.first, u.me.id)).toBe(version);
    expect(await fresh.devices.isSetUp()).toBe(false);
  });
});

describe('the link relay', () => {
  const handleHex = () => randomBytes(16).toString('hex');
  const blob = (n: number) => randomBytes(n).toString('base64url');

  it('keeps one request per session, caps pending requests per user, and types bad input', async () => {
    const name = uniqueName('relay');
    const owner = device('relay');
    await owner.auth.register(name, PASSWORD);
    await owner.devices.setup();
    const session = device('relay new');
    await session.auth.login(name, PASSWORD);
    const first = handleHex();
    await session.api.devices.createLink.mutate({ handle: first, request: blob(100) });
    const second = handleHex();
    await session.api.devices.createLink.mutate({ handle: second, request: blob(100) });
    // The second replaced the first.
    expect(
      apiErrorCode(
        await session.api.devices.linkStatus.query({ handle: first }).catch((e: unknown) => e),
      ),
    ).toBe('NOT_FOUND');
    expect((await session.api.devices.linkStatus.query({ handle: second })).status).toBe('pending');

    for (let i = 0; i < 4; i++) {
      const other = device(`relay ${i}`);
      await other.auth.login(name, PASSWORD);
      await other.api.devices.createLink.mutate({ handle: handleHex(), request: blob(100) });
    }
    const sixth = device('relay 6');
    await sixth.auth.login(name, PASSWORD);
    const refused = await sixth.api.devices.createLink
      .mutate({ handle: handleHex(), request: blob(100) })
      .catch((e: unknown) => e);
    expect(apiErrorCode(refused)).toBe('TOO_MANY_REQUESTS');

    const bad = await session.api.devices.createLink
      .mutate({ handle: 'not a handle', request: blob(100) })
      .catch((e: unknown) => e);
    expect(apiErrorCode(bad)).toBe('BAD_REQUEST');
    expect(fieldErrors(bad)).toHaveProperty('handle');
    const big = await owner.api.devices.approveLink
      .mutate({ handle: second, envelope: blob(600 * 1024) })
      .catch((e: unknown) => e);
    expect(apiErrorCode(big)).toBe('BAD_REQUEST');
    expect(fieldErrors(big)).toHaveProperty('envelope');
  });
});

describe('revoking a device', () => {
  it('signs it out, rotates every conversation, and it decrypts nothing sent afterwards', async () => {
    const u = await userWithHistory('rv');
    const lostStore = new MemoryKeyStore();
    const lost = device('rv lost phone', lostStore);
    await lost.auth.login(u.name, PASSWORD);
    await lost.devices.recover(u.recoveryKey);
    expect(await textsOf(lost, u.conversationId)).toEqual(BEFORE);
    // A group as well: every conversation of the user must rotate.
    const { id: group } = await u.contact.conversations.createGroup({
      title: 'Trip',
      members: [u.name],
    });
    await u.contact.messages.send(group, { text: 'group before' });
    expect((await textsOf(lost, group))[0]).toBe('group before');

    const devices = await u.first.devices.list();
    const lostId = devices.find((d) => d.name === 'rv lost phone')!.id;
    expect(devices.find((d) => d.current)?.name).toBe('rv laptop');
    const epochsBefore = new Map(
      (await u.first.api.conversations.list.query()).map((c) => [c.id, c.epoch]),
    );
    const result = await u.first.devices.revoke(lostId);
    expect(result).toEqual({ rotated: 2, failed: 0 });
    const epochsAfter = (await u.first.api.conversations.list.query()).map((c) => ({
      id: c.id,
      epoch: c.epoch,
      needsRotation: c.needsRotation,
    }));
    for (const c of epochsAfter) {
      expect(c.epoch).toBeGreaterThan(epochsBefore.get(c.id)!);
      expect(c.needsRotation).toBe(false);
    }
    expect((await u.first.devices.list()).map((d) => d.name)).toEqual(['rv laptop']);

    // The revoked device's session ended at once.
    expect(await lost.api.auth.me.query()).toBeNull();

    await u.contact.messages.send(u.conversationId, { text: 'after the revocation' });
    await u.contact.messages.send(group, { text: 'group after' });
    expect((await textsOf(u.first, u.conversationId))[0]).toBe('after the revocation');

    // No envelope of any later epoch was sealed to the revoked device.
    const sealedToLost = handle.sqlite
      .prepare('SELECT conversation_id AS c, epoch FROM envelopes WHERE recipient_device_id = ?')
      .all(lostId) as { c: string; epoch: number }[];
    for (const row of sealedToLost) expect(row.epoch).toBeLessThanOrEqual(epochsBefore.get(row.c)!);

    // Signed in again, it is told it was revoked; the ciphertext it can fetch is in an epoch whose
    // keys it never received, so its stored keys cannot open it.
    await lost.auth.login(u.name, PASSWORD);
    expect(await lost.devices.status()).toBe('revoked');
    const page = await lost.api.messages.list.query({ conversationId: u.conversationId });
    const latest = page.messages.find((m) => m.ciphertext)!;
    const epoch = peekMessageHeader(fromBase64Url(latest.ciphertext!)).epoch;
    expect(epoch).toBe(epochsAfter.find((c) => c.id === u.conversationId)!.epoch);
    const held = (await lostStore.keys(`${u.me.id}/epoch/${u.conversationId}/`)).map((k) =>
      Number(k.split('/').pop()),
    );
    expect(held.length).toBeGreaterThan(0);
    expect(held).not.toContain(epoch);
    // Everything the device stored (every epoch state, the sender's verified keys) does not open it.
    const records = await Promise.all(
      (await lostStore.keys(`${u.me.id}/identity/`)).map((k) =>
        lostStore.get<{ pin: PinnedIdentity; devices: VerifiedDevice[] }>(k),
      ),
    );
    const directory = createDeviceDirectory(
      records.map((r) => ({ pin: r!.pin, devices: r!.devices })),
    );
    expect(
      directory.deviceKey(fromHex(latest.senderUserId, 16), fromHex(latest.senderDeviceId, 16)),
    ).toBeDefined();
    await expect(
      decryptMessage(fromBase64Url(latest.ciphertext!), {
        convId: fromHex(u.conversationId, 16),
        epochs: async (e) => {
          const data = await lostStore.get<EpochStateData>(
            `${u.me.id}/epoch/${u.conversationId}/${String(e).padStart(12, '0')}`,
          );
          return data ? EpochState.restore(data) : undefined;
        },
        directory,
        isDuplicate: async () => false,
      }),
    ).rejects.toBeInstanceOf(AuthenticationError);
    // Nor can the client: it has no keys for the new epoch and the server no longer serves it.
    await expect(textsOf(lost, u.conversationId)).rejects.toThrow();
  });

  it('records last seen from activity and renames a device', async () => {
    const u = await userWithHistory('ls');
    const [mine] = await u.first.devices.list();
    // Last seen is written at most once a minute: age the session and device by two minutes,
    // and the next call records the activity for both.
    const twoMinutesAgo = Date.now() - 120_000;
    handle.sqlite
      .prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?')
      .run(twoMinutesAgo, mine!.id);
    handle.sqlite
      .prepare('UPDATE sessions SET last_seen_at = ? WHERE device_id = ?')
      .run(twoMinutesAgo, mine!.id);
    const [seen] = await u.first.devices.list();
    expect(seen!.lastSeenAt.getTime()).toBeGreaterThan(Date.now() - 10_000);
    // A device that is not in use keeps its last seen: the contact's activity does not touch it.
    handle.sqlite
      .prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?')
      .run(twoMinutesAgo, mine!.id);
    await u.contact.devices.list();
    expect((await u.contact.api.devices.list.query())[0]!.id).not.toBe(mine!.id);
    const untouched = handle.sqlite
      .prepare('SELECT last_seen_at AS t FROM devices WHERE id = ?')
      .get(mine!.id) as { t: number };
    expect(untouched.t).toBe(twoMinutesAgo);
    await u.first.devices.rename(mine!.id, 'Work laptop');
    expect((await u.first.devices.list())[0]!.name).toBe('Work laptop');
    // A server that shows an older signed name (the user's own earlier choice) does not bring it
    // back where a newer one was seen.
    const signedName = () =>
      (
        handle.sqlite
          .prepare('SELECT signed_name AS b FROM devices WHERE id = ?')
          .get(mine!.id) as {
          b: Buffer;
        }
      ).b;
    const older = signedName();
    await u.first.devices.rename(mine!.id, 'Desk');
    handle.sqlite.prepare('UPDATE devices SET signed_name = ? WHERE id = ?').run(older, mine!.id);
    expect((await u.first.devices.list())[0]!.name).toBe('Desk');
    // Refused before anything is signed: an empty name, and one too long.
    for (const name of ['  ', 'x'.repeat(65)]) {
      const refused = await u.first.devices.rename(mine!.id, name).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DeviceNameError);
      expect(fieldErrors(refused)).toHaveProperty('name');
    }
    // The server refuses a malformed signed name with the field named.
    const bad = await u.first.api.devices.rename
      .mutate({ deviceId: mine!.id, signedName: 'AAAA' })
      .catch((e: unknown) => e);
    expect(apiErrorCode(bad)).toBe('BAD_REQUEST');
    expect(fieldErrors(bad)).toHaveProperty('signedName');
    // A name the server altered does not verify: the list shows the newest name seen there, and
    // on a device that has seen none, the certificate's name.
    const altered = Buffer.from(signedName());
    altered[1 + 16 + 16 + 8 + 2] = 'V'.charCodeAt(0);
    handle.sqlite.prepare('UPDATE devices SET signed_name = ? WHERE id = ?').run(altered, mine!.id);
    expect((await u.first.devices.list())[0]!.name).toBe('Desk');
    const other = device('ls other');
    await other.auth.login(u.name, PASSWORD);
    await other.devices.recover(u.recoveryKey);
    expect((await other.devices.list()).find((d) => d.id === mine!.id)?.name).toBe('ls laptop');
    // Another user's device is not found.
    const [theirs] = await u.contact.devices.list();
    expect(
      apiErrorCode(await u.first.devices.rename(theirs!.id, 'x').catch((e: unknown) => e)),
    ).toBe('NOT_FOUND');
  });
});

describe('identity reset (nothing else left)', () => {
  it('starts a new identity and backup: contacts are warned, old history stays unreadable', async () => {
    const u = await userWithHistory('ir');
    await u.first.devices.setPassphrase(STRONG);
    const other = device('ir other');
    await other.auth.login(u.name, PASSWORD);
    await other.devices.recover(u.recoveryKey);
    const oldBackupKey = (await u.first.api.backup.key.query())!.publicKey;
    const [beforeReset] = await u.first.api.conversations.list.query();
    expect((await u.first.api.backup.entries.query({})).entries.length).toBeGreaterThan(0);
    // The contact pins the identity before the reset.
    await u.contact.contacts.safetyNumber(u.me.id);

    // Everything lost but the password: a fresh browser resets.
    const fresh = device('ir fresh');
    await fresh.auth.login(u.name, PASSWORD);
    const { recoveryKey } = await fresh.devices.resetIdentity();
    expect(recoveryKey).not.toBe(u.recoveryKey);

    // A new backup key; the old entries and the old passphrase are gone.
    expect((await fresh.api.backup.key.query())!.publicKey).not.toBe(oldBackupKey);
    const entries = (await fresh.api.backup.entries.query({})).entries;
    // Only the epoch the reset started is in the new backup.
    expect(entries.map((e) => e.epoch)).toEqual([beforeReset!.epoch! + 1]);
    expect(await fresh.devices.hasPassphrase()).toBe(false);
    // The other devices are revoked; the contact sees a changed identity.
    expect(await other.devices.status()).toBe('revoked');
    // Only the resetting device holds the new backup key.
    expect(await fresh.devices.isBackingUp()).toBe(true);
    expect(await other.devices.isBackingUp()).toBe(false);
    expect((await u.contact.contacts.status(u.me.id)).identityChanged).toBe(true);
    // The old recovery key opens nothing now.
    const later = device('ir later');
    await later.auth.login(u.name, PASSWORD);
    await expect(later.devices.recover(u.recoveryKey)).rejects.toBeInstanceOf(RecoveryKeyError);
    // With the new key, history from before the reset cannot be read, what follows can.
    await u.contact.contacts.acceptIdentityChange(u.me.id);
    await u.contact.messages.send(u.conversationId, { text: 'after the reset' });
    await later.devices.recover(recoveryKey);
    const texts = await textsOf(later, u.conversationId);
    expect(texts[0]).toBe('after the reset');
    expect(texts.slice(1)).toEqual(['??', '??', '??']);
  });
});
