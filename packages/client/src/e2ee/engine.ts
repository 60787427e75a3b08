import {
  AuthenticationError,
  buildCommit,
  buildRoster,
  createDeviceList,
  createOneTimePrekeys,
  decodePublicPrekey,
  decodeRecoveryKey,
  decodeSignedRoster,
  decryptMessage,
  encodeDeviceCert,
  encodeDeviceList,
  encodeRecoveryKey,
  encodeSignedRoster,
  encryptMessage,
  EpochState,
  fromBase64Url,
  fromHex,
  generateRecoveryKey,
  generateUserSigningKey,
  importUserSigningKey,
  nextDeviceList,
  openCommit,
  openSecret,
  peekEnvelopeHeader,
  peekMessageHeader,
  PREKEY_POLICY,
  randomBytes,
  sealSecret,
  SECRET_NAMES,
  toBase64Url,
  toHex,
  type Content,
  type DeviceKeys,
  type DeviceList,
  type KeyPair,
  type CommitRecipient,
} from '@securechat/crypto';
import type { EnvelopeDto, MessageDto } from '@securechat/api';
import type { ApiClient } from '../client.ts';
import { apiErrorCode } from '../errors.ts';
import { DeviceNotSetUpError, NotSetUpError, RecoveryKeyError } from './errors.ts';
import { createDevice, publishedPrekey, registerDevice } from './device-setup.ts';
import { Identities, type IdentityNotice } from './identities.ts';
import type { LocalState, MessageRecord } from './local-state.ts';

/** What the engine reports besides return values (shown to the user by the caller). */
export type EngineNotice =
  | IdentityNotice
  | { type: 'messages-missing'; conversationId: string; senderUserId: string; count: number }
  | { type: 'decryption-failure'; conversationId: string; messageId: string; senderUserId: string };

const COMMIT_ATTEMPTS = 5;
const SEND_ATTEMPTS = 5;
const bytes16 = (hex: string) => fromHex(hex, 16);

function isStale(error: unknown): boolean {
  return apiErrorCode(error) === 'PRECONDITION_FAILED';
}

/** Network trouble or a restarting server: worth retrying the same request. */
function isTransient(error: unknown): boolean {
  const code = apiErrorCode(error);
  return code === null || code === 'TOO_MANY_REQUESTS' || code === 'INTERNAL_SERVER_ERROR';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The end-to-end layer of one signed-in user on one device: device setup and recovery, the
 * conversation key schedule (accepting envelopes, committing epochs), and encrypting and
 * decrypting messages. All cryptography is packages/crypto's; this wires it to the API and the
 * local store. Every operation on a conversation's keys runs under that conversation's lock, so
 * a chain index (and with it a nonce) is never used twice.
 */
export class Engine {
  readonly identities: Identities;
  #device: DeviceKeys | null = null;
  readonly #states = new Map<string, EpochState>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly api: ApiClient,
    private readonly local: LocalState,
    readonly me: { id: string; username: string },
    private readonly notify: (notice: EngineNotice) => void,
  ) {
    this.identities = new Identities(api, local, notify);
  }

  /** Runs `fn` after every earlier operation on the same conversation has finished. */
  withLock<T>(conversationId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(conversationId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    this.#locks.set(conversationId, tail);
    void tail.then(() => {
      if (this.#locks.get(conversationId) === tail) this.#locks.delete(conversationId);
    });
    return run;
  }

  async device(): Promise<DeviceKeys> {
    this.#device ??= (await this.local.getDevice()) ?? null;
    if (!this.#device) throw new DeviceNotSetUpError();
    return this.#device;
  }

  async hasDevice(): Promise<boolean> {
    return (await this.local.getDevice()) !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Devices

  /**
   * First device of a user: creates the user signing key, seals it under a fresh recovery key in
   * secret storage, then creates, lists and registers this device. Returns the recovery key,
   * which exists nowhere else: the user must keep it.
   */
  async setup(displayName: string): Promise<{ recoveryKey: string }> {
    const [published] = await this.api.keys.deviceLists.query({ userIds: [this.me.id] });
    if (published) {
      throw new Error(
        'This account already has an encryption identity: recover it with the recovery key',
      );
    }
    const userId = bytes16(this.me.id);
    const { usk, pkcs8 } = await generateUserSigningKey();
    const ssk = generateRecoveryKey();
    try {
      const sealed = await sealSecret(ssk, userId, SECRET_NAMES.userSigningKey, 1, pkcs8);
      await this.api.keys.putSecrets.mutate({
        secrets: [{ name: SECRET_NAMES.userSigningKey, value: toBase64Url(sealed) }],
      });
      const recoveryKey = await encodeRecoveryKey(ssk);
      await this.#addThisDevice(usk, null, displayName);
      return { recoveryKey };
    } finally {
      pkcs8.fill(0);
      ssk.fill(0);
    }
  }

  /**
   * A further device, without another device at hand (§3.3 flow B): opens the user signing key
   * with the recovery key and adds this device to the signed device list. A mistyped or foreign
   * recovery key fails with RecoveryKeyError before anything is published.
   */
  async recover(recoveryKey: string, displayName: string): Promise<void> {
    let ssk: Uint8Array;
    try {
      ssk = await decodeRecoveryKey(recoveryKey);
    } catch (error) {
      throw new RecoveryKeyError(
        error instanceof Error ? error.message : 'That is not a recovery key',
      );
    }
    const secrets = await this.api.keys.secrets.query();
    const stored = secrets.find((s) => s.name === SECRET_NAMES.userSigningKey);
    if (!stored)
      throw new RecoveryKeyError('This account has no encryption identity yet: set up instead');
    let pkcs8: Uint8Array;
    try {
      ({ secret: pkcs8 } = await openSecret(
        ssk,
        bytes16(this.me.id),
        SECRET_NAMES.userSigningKey,
        fromBase64Url(stored.value),
      ));
    } catch {
      throw new RecoveryKeyError('That recovery key does not belong to this account');
    } finally {
      ssk.fill(0);
    }
    const usk = await importUserSigningKey(pkcs8);
    pkcs8.fill(0);
    const chain = await this.identities.fullChain(this.me.id);
    if (chain.length === 0)
      throw new RecoveryKeyError('This account has no published devices to add to');
    // Verifies the whole chain under the recovered key before building on it.
    await this.identities.pinSelf(this.me.id, usk.publicKey, chain);
    await this.#addThisDevice(usk, chain[chain.length - 1]!, displayName);
  }

  async #addThisDevice(
    usk: KeyPair,
    previous: DeviceList | null,
    displayName: string,
  ): Promise<void> {
    const userId = bytes16(this.me.id);
    const { device, cert } = await createDevice(usk, userId, displayName);
    const list = previous
      ? await nextDeviceList(usk, previous, { add: [cert] })
      : await createDeviceList(usk, userId, [cert]);
    await this.api.keys.publishDeviceList.mutate({
      version: list.listVersion,
      signingKey: toBase64Url(usk.publicKey),
      list: toBase64Url(encodeDeviceList(list)),
      devices: list.certs.map((c) => ({
        id: toHex(c.deviceId),
        cert: toBase64Url(encodeDeviceCert(c)),
      })),
      revokedDeviceIds: list.revokedDeviceIds.map(toHex),
    });
    await this.local.setUserSigningKey(usk);
    await registerDevice(this.api, this.local, device);
    this.#device = device;
    await this.identities.pinSelf(this.me.id, usk.publicKey, [list]);
  }

  /** Tops up one-time prekeys on the server when they run low (§3.2 policy). */
  async maintainPrekeys(): Promise<void> {
    const device = await this.device();
    const { oneTimePrekeys } = await this.api.keys.prekeyCount.query();
    if (oneTimePrekeys >= PREKEY_POLICY.opkLowWater) return;
    const first = await this.local.getCounter('opk');
    const fresh = await createOneTimePrekeys(device, PREKEY_POLICY.opkBatchSize, first);
    for (const p of fresh) await this.local.setPrekey(p);
    await this.local.setCounter('opk', first + fresh.length);
    await this.api.keys.uploadPrekeys.mutate({
      oneTimePrekeys: fresh.map(publishedPrekey),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Conversation keys (callers hold the conversation's lock)

  async #state(conversationId: string, epoch: number): Promise<EpochState | undefined> {
    const key = `${conversationId}/${epoch}`;
    let state = this.#states.get(key);
    if (!state) {
      const data = await this.local.getEpoch(conversationId, epoch);
      if (!data) return undefined;
      state = await EpochState.restore(data);
      this.#states.set(key, state);
    }
    return state;
  }

  async #saveState(conversationId: string, state: EpochState): Promise<void> {
    this.#states.set(`${conversationId}/${state.epoch}`, state);
    await this.local.setEpoch(conversationId, state.serialize());
  }

  async #rosterBytes(conversationId: string, epoch: number): Promise<Uint8Array> {
    const stored = await this.local.getRoster(conversationId, epoch);
    if (stored) return stored;
    const { roster } = await this.api.conversations.roster.query({ conversationId, epoch });
    return fromBase64Url(roster);
  }

  /** Opens an envelope addressed to this device and starts its epoch (§3.5). */
  async acceptEnvelope(conversationId: string, envelope: EnvelopeDto): Promise<void> {
    if (await this.#state(conversationId, envelope.epoch)) return;
    const device = await this.device();
    const rosterBytes = await this.#rosterBytes(conversationId, envelope.epoch);
    const roster = decodeSignedRoster(rosterBytes);
    const previous =
      envelope.epoch > 0
        ? decodeSignedRoster(await this.#rosterBytes(conversationId, envelope.epoch - 1))
        : undefined;
    await this.identities.refresh([
      ...roster.members.map((m) => toHex(m.userId)),
      toHex(roster.changedByUser),
    ]);
    const wire = fromBase64Url(envelope.envelope);
    const header = peekEnvelopeHeader(wire);
    if (header.prekeyKind !== 'spk' && header.prekeyKind !== 'opk') throw new AuthenticationError();
    const prekey = await this.local.getPrekey(header.prekeyKind, header.recipientPrekeyId);
    if (!prekey) throw new AuthenticationError();
    const { state } = await openCommit({
      device,
      prekey,
      envelope: wire,
      roster,
      ...(previous ? { previous } : {}),
      directory: await this.identities.directory(),
    });
    await this.#saveState(conversationId, state);
    await this.local.setRoster(conversationId, envelope.epoch, rosterBytes);
    // A one-time prekey is deleted after first use: that is what gives the envelope forward secrecy.
    if (header.prekeyKind === 'opk') await this.local.deletePrekey('opk', header.recipientPrekeyId);
  }

  /** Fetches this device's key state for a conversation and accepts any envelopes not yet opened. */
  async syncKeys(conversationId: string) {
    const keyState = await this.api.conversations.keyState.query({ conversationId });
    for (const envelope of [...keyState.envelopes].sort((a, b) => a.epoch - b.epoch)) {
      try {
        await this.acceptEnvelope(conversationId, envelope);
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        this.notify({
          type: 'decryption-failure',
          conversationId,
          messageId: `epoch-${envelope.epoch}`,
          senderUserId: envelope.senderUserId,
        });
      }
    }
    return keyState;
  }

  /**
   * Starts the conversation's next epoch with this device as committer: a signed roster of the
   * members afterwards and a fresh secret sealed to each of their devices. Retries on a
   * concurrent commit. Returns the new epoch's state.
   */
  async commit(
    conversationId: string,
    change: { add?: string[]; remove?: string[] } = {},
  ): Promise<EpochState> {
    const device = await this.device();
    for (let attempt = 1; ; attempt++) {
      const keyState = await this.syncKeys(conversationId);
      const remove = new Set(change.remove ?? []);
      const roles = new Map(keyState.members.map((m) => [m.userId, m.role]));
      const memberIds = [
        ...keyState.members.map((m) => m.userId).filter((id) => !remove.has(id)),
        ...(change.add ?? []).filter((id) => !roles.has(id)),
      ];
      const missing = await this.identities.refresh(memberIds, true);
      if (missing.length > 0) throw new NotSetUpError(missing[0]!);
      const records = new Map<string, NonNullable<Awaited<ReturnType<Identities['get']>>>>();
      for (const id of memberIds) records.set(id, (await this.identities.get(id))!);

      const previous =
        keyState.epoch !== null
          ? decodeSignedRoster(await this.#rosterBytes(conversationId, keyState.epoch))
          : undefined;
      const roster = await buildRoster({
        convId: bytes16(conversationId),
        ...(previous ? { previous } : {}),
        members: memberIds.map((id) => ({
          userId: bytes16(id),
          uskPublicKey: records.get(id)!.pin.uskPublicKey,
        })),
        admins: memberIds.filter((id) => roles.get(id) === 'admin').map(bytes16),
        by: device,
      });

      const bundles = await this.api.keys.claimPrekeys.mutate({ userIds: memberIds });
      const recipients: CommitRecipient[] = [];
      for (const bundle of bundles) {
        if (bundle.deviceId === toHex(device.deviceId)) continue;
        // Only devices in their owner's USK-signed list get the secret: the server cannot add one.
        const owner = memberIds.find((id) =>
          records.get(id)!.devices.some((d) => toHex(d.deviceId) === bundle.deviceId),
        );
        const listed =
          owner && records.get(owner)!.devices.find((d) => toHex(d.deviceId) === bundle.deviceId);
        const prekey = bundle.oneTimePrekey ?? bundle.signedPrekey;
        if (!owner || !listed || !prekey) {
          throw new AuthenticationError();
        }
        recipients.push({
          userId: bytes16(owner),
          deviceId: listed.deviceId,
          signingPublicKey: listed.signingPublicKey,
          prekey: decodePublicPrekey(fromBase64Url(prekey.bundle)),
        });
      }
      const commit = await buildCommit({ sender: device, roster, recipients });
      const rosterBytes = encodeSignedRoster(commit.roster);
      try {
        await this.api.conversations.commit.mutate({
          conversationId,
          expectedEpoch: keyState.epoch,
          roster: toBase64Url(rosterBytes),
          add: (change.add ?? [])
            .filter((id) => !roles.has(id))
            .map((userId) => ({ userId, role: 'member' as const })),
          remove: [...remove],
          envelopes: commit.envelopes.map((e) => ({
            recipientUserId: toHex(e.userId),
            recipientDeviceId: toHex(e.deviceId),
            envelope: toBase64Url(e.envelope),
          })),
        });
      } catch (error) {
        if (isStale(error) && attempt < COMMIT_ATTEMPTS) continue;
        throw error;
      }
      await this.#saveState(conversationId, commit.state);
      await this.local.setRoster(conversationId, commit.roster.epoch, rosterBytes);
      return commit.state;
    }
  }

  /**
   * The epoch this device sends in, rotating first when the design says it must: no epoch yet,
   * a member left, no envelope reached this device, the membership no longer matches the signed
   * roster, or the epoch is old or used enough (§3.7).
   */
  async sendState(conversationId: string): Promise<EpochState> {
    const keyState = await this.syncKeys(conversationId);
    if (keyState.epoch === null || keyState.needsRotation) return this.commit(conversationId);
    const state = await this.#state(conversationId, keyState.epoch);
    if (!state || state.needsRotation()) return this.commit(conversationId);
    const members = new Set(keyState.members.map((m) => m.userId));
    const rostered = state.members.map(toHex);
    if (rostered.length !== members.size || rostered.some((id) => !members.has(id)))
      return this.commit(conversationId);
    return state;
  }

  // ---------------------------------------------------------------------------------------------
  // Messages (callers hold the conversation's lock)

  /**
   * Encrypts and sends `content`, retrying with the same client message id: the same bytes after
   * a network failure (the server is idempotent on the id), re-encrypted after the conversation
   * moved to a new epoch. Returns the stored record.
   */
  async send(
    conversationId: string,
    content: Content,
    clientMessageId = toHex(randomBytes(16)),
    options: { fileIds?: string[] } = {},
  ): Promise<MessageRecord> {
    const device = await this.device();
    const sentAt = Date.now();
    const record: MessageRecord = {
      seq: null,
      conversationId,
      clientMessageId,
      senderUserId: this.me.id,
      senderDeviceId: toHex(device.deviceId),
      sentAt,
      content,
      deleted: false,
    };
    // Saved before sending: this device cannot decrypt its own messages, so the event that
    // echoes it back finds the plaintext here.
    await this.local.setMessage(record);
    let wire: Uint8Array | null = null;
    let epoch = 0;
    for (let attempt = 1; ; attempt++) {
      if (!wire) {
        const state = await this.sendState(conversationId);
        ({ wire } = await encryptMessage({
          state,
          sender: device,
          content,
          clientMsgId: bytes16(clientMessageId),
          sentAtMs: sentAt,
        }));
        epoch = state.epoch;
        await this.#saveState(conversationId, state);
      }
      try {
        const ack = await this.api.messages.send.mutate({
          conversationId,
          epoch,
          clientMessageId,
          sentAt: new Date(sentAt),
          ciphertext: toBase64Url(wire),
          ...(options.fileIds?.length ? { fileIds: options.fileIds } : {}),
        });
        record.seq = ack.seq;
        await this.local.setMessage(record);
        await this.local.setMessageIdBySeq(conversationId, ack.seq, clientMessageId);
        return record;
      } catch (error) {
        if (attempt >= SEND_ATTEMPTS) throw error;
        if (isStale(error)) wire = null;
        else if (isTransient(error)) await sleep(Math.min(4000, 250 * 2 ** attempt));
        else throw error;
      }
    }
  }

  /**
   * Decrypts a message fetched from the server, once: a message seen before comes from the local
   * store (its chain index cannot be accepted twice). A failed check yields a record with no
   * content, and a decryption-failure notice; never the input as text.
   */
  async receive(dto: MessageDto): Promise<MessageRecord> {
    const { conversationId } = dto;
    const known = await this.local.getMessage(conversationId, dto.clientMessageId);
    if (known && known.senderUserId === dto.senderUserId) {
      let changed = false;
      if (known.seq === null) {
        known.seq = dto.seq;
        changed = true;
      }
      if (dto.deleted && !known.deleted) {
        known.deleted = true;
        known.content = null;
        changed = true;
      }
      if (changed) await this.local.setMessage(known);
      await this.local.setMessageIdBySeq(conversationId, dto.seq, dto.clientMessageId);
      return known;
    }
    const record: MessageRecord = {
      seq: dto.seq,
      conversationId,
      clientMessageId: dto.clientMessageId,
      senderUserId: dto.senderUserId,
      senderDeviceId: dto.senderDeviceId,
      sentAt: dto.sentAt.getTime(),
      content: null,
      deleted: dto.deleted,
    };
    if (!dto.deleted && dto.ciphertext) {
      try {
        record.content = await this.#decrypt(dto, fromBase64Url(dto.ciphertext));
      } catch (error) {
        if (!(error instanceof AuthenticationError) && !(error instanceof TypeError)) throw error;
        this.notify({
          type: 'decryption-failure',
          conversationId,
          messageId: dto.clientMessageId,
          senderUserId: dto.senderUserId,
        });
      }
    }
    await this.local.setMessage(record);
    await this.local.setMessageIdBySeq(conversationId, dto.seq, dto.clientMessageId);
    return record;
  }

  async #decrypt(dto: MessageDto, wire: Uint8Array): Promise<Content> {
    const header = peekMessageHeader(wire);
    // The routing facts the server attached must be the ones the sender signed.
    if (
      toHex(header.senderUser) !== dto.senderUserId ||
      toHex(header.senderDevice) !== dto.senderDeviceId ||
      toHex(header.clientMsgId) !== dto.clientMessageId ||
      header.epoch !== dto.epoch
    ) {
      throw new AuthenticationError();
    }
    if (!(await this.#state(dto.conversationId, header.epoch)))
      await this.syncKeys(dto.conversationId);
    const directory = await this.identities.directory();
    if (!directory.deviceKey(header.senderUser, header.senderDevice)) {
      await this.identities.refresh([dto.senderUserId], true);
    }
    const decrypted = await decryptMessage(wire, {
      convId: bytes16(dto.conversationId),
      epochs: (epoch) => this.#state(dto.conversationId, epoch),
      directory: await this.identities.directory(),
      isDuplicate: async (id) =>
        (await this.local.getMessage(dto.conversationId, toHex(id))) !== undefined,
    });
    const state = await this.#state(dto.conversationId, header.epoch);
    if (state) await this.#saveState(dto.conversationId, state);
    if (decrypted.gap) {
      this.notify({
        type: 'messages-missing',
        conversationId: dto.conversationId,
        senderUserId: dto.senderUserId,
        count: decrypted.gap.to - decrypted.gap.from,
      });
    }
    return decrypted.content;
  }

  /** Forgets a deleted message's plaintext on this device. */
  async forget(conversationId: string, clientMessageId: string): Promise<void> {
    const known = await this.local.getMessage(conversationId, clientMessageId);
    if (known && !known.deleted)
      await this.local.setMessage({ ...known, content: null, deleted: true });
  }

  /** The safety number with another user (§3.10), from the pinned keys. */
  async uskOf(userId: string): Promise<Uint8Array> {
    await this.identities.refresh([userId]);
    const record = await this.identities.get(userId);
    if (!record) throw new NotSetUpError(userId);
    return record.pin.uskPublicKey;
  }

  ownsDevice(deviceId: string): boolean {
    return this.#device !== null && toHex(this.#device.deviceId) === deviceId;
  }
}
