import {
  AuthenticationError,
  InvalidInputError,
  buildCommit,
  createDeviceKeys,
  createLinkRequest,
  ctEqual,
  signDeviceCert,
  signDeviceName,
  decodeDeviceList,
  generateBackupKeyPair,
  importBackupKey,
  openProvisioning,
  sealProvisioning,
  trustOnFirstUse,
  unwrapWithPassphrase,
  verifyDeviceListUpdate,
  wrapWithPassphrase,
  MAX_DEVICES,
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
  openDeviceName,
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
  type LinkRequest,
  type ProvisioningBundle,
} from '@securechat/crypto';
import type { EnvelopeDto, MessageDto } from '@securechat/api';
import type { ApiClient } from '../client.ts';
import { apiErrorCode } from '../errors.ts';
import {
  DeviceNotSetUpError,
  LinkCodeError,
  LinkError,
  NotSetUpError,
  PassphraseError,
  RecoveryKeyError,
} from './errors.ts';
import { createDevice, publishedPrekey, registerDevice } from './device-setup.ts';
import {
  backUpEpoch,
  downloadBackup,
  installEpochs,
  PASSPHRASE_SECRET,
  type EpochSecret,
} from './key-backup.ts';
import {
  decodeLinkCode,
  encodeLinkCode,
  linkHandle,
  openLinkRequest,
  sealLinkRequest,
} from './link-code.ts';
import { Identities, type IdentityNotice } from './identities.ts';
import type { LocalState, MessageRecord } from './local-state.ts';

/** What the engine reports besides return values (shown to the user by the caller). */
export type EngineNotice =
  | IdentityNotice
  | { type: 'messages-missing'; conversationId: string; senderUserId: string; count: number }
  | { type: 'decryption-failure'; conversationId: string; messageId: string; senderUserId: string };

/** Most epoch secrets a provisioning bundle hands over (the newest ones). */
const PROVISIONED_EPOCHS = 2048;

/** A link request this (new) device is waiting on. */
export interface PendingLinkState {
  device: DeviceKeys;
  request: LinkRequest;
  linkKey: KeyPair;
  handle: string;
  expiresAt: Date;
}

const COMMIT_ATTEMPTS = 5;
const SEND_ATTEMPTS = 5;
const bytes16 = (hex: string) => fromHex(hex, 16);

/**
 * Whether a message of this device is sent again as stored when it failed: a text or a file, and
 * an edit or a reaction (what the user did stands until it reaches the server). Calendar and
 * control messages are made again instead, from the state at the time.
 */
export function isResendable(record: MessageRecord): boolean {
  const type = record.content?.type;
  return type === 'text' || type === 'file' || type === 'edit' || type === 'reaction';
}

/** The server-side files a file message refers to: the file and its thumbnail. */
function attachedFileIds(content: Extract<Content, { type: 'file' }>): string[] {
  return [content.file, ...(content.thumbnail ? [content.thumbnail] : [])].map((ref) =>
    toHex(ref.fileId),
  );
}

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
    const backup = await generateBackupKeyPair();
    const ssk = generateRecoveryKey();
    try {
      const sealed = await sealSecret(ssk, userId, SECRET_NAMES.userSigningKey, 1, pkcs8);
      const sealedBackup = await sealSecret(ssk, userId, SECRET_NAMES.backupKey, 1, backup.pkcs8);
      await this.api.keys.putSecrets.mutate({
        secrets: [
          { name: SECRET_NAMES.userSigningKey, value: toBase64Url(sealed) },
          { name: SECRET_NAMES.backupKey, value: toBase64Url(sealedBackup) },
        ],
      });
      const recoveryKey = await encodeRecoveryKey(ssk);
      await this.#addThisDevice(usk, null, displayName);
      await this.#keepSecrets({ usk: pkcs8, backup: backup.pkcs8, ssk });
      await this.api.backup.setKey.mutate({ publicKey: toBase64Url(backup.keyPair.publicKey) });
      return { recoveryKey };
    } finally {
      pkcs8.fill(0);
      backup.pkcs8.fill(0);
      ssk.fill(0);
    }
  }

  /**
   * Keeps the private keys this device may hand on (linking) or need again (a passphrase) in
   * the local store, sealed at rest there. The backup public key is derived here, never taken
   * from the server, so the server cannot make devices back up to a key of its own.
   */
  async #keepSecrets(secrets: {
    usk: Uint8Array;
    backup: Uint8Array | null;
    ssk: Uint8Array | null;
  }): Promise<void> {
    await this.local.setSecret('usk-pkcs8', secrets.usk);
    if (secrets.backup) {
      await this.local.setSecret('backup-pkcs8', secrets.backup);
      const pair = await importBackupKey(secrets.backup);
      await this.local.setSecret('backup-public', pair.publicKey);
    }
    if (secrets.ssk) await this.local.setSecret('ssk', secrets.ssk);
  }

  /**
   * A further device, without another device at hand (§3.3 flow B): opens the user signing key
   * with the recovery key and adds this device to the signed device list. A mistyped or foreign
   * recovery key fails with RecoveryKeyError before anything is published.
   */
  async recover(recoveryKey: string, displayName: string): Promise<{ restoredEpochs: number }> {
    let ssk: Uint8Array;
    try {
      ssk = await decodeRecoveryKey(recoveryKey);
    } catch (error) {
      throw new RecoveryKeyError(
        error instanceof Error ? error.message : 'That is not a recovery key',
      );
    }
    try {
      return await this.#recoverWith(ssk, displayName, () => {
        throw new RecoveryKeyError('That recovery key does not belong to this account');
      });
    } finally {
      ssk.fill(0);
    }
  }

  /**
   * Flow B with the passphrase: unwraps the secret-storage key (Argon2id) and recovers as with
   * the recovery key. A wrong passphrase fails with PassphraseError before anything changes.
   */
  async recoverWithPassphrase(
    passphrase: string,
    displayName: string,
  ): Promise<{ restoredEpochs: number }> {
    const secrets = await this.api.keys.secrets.query();
    const wrapped = secrets.find((s) => s.name === PASSPHRASE_SECRET);
    if (!wrapped) {
      throw new PassphraseError(
        'This account has no recovery passphrase: use the recovery key instead',
      );
    }
    let ssk: Uint8Array;
    try {
      ssk = await unwrapWithPassphrase(
        fromBase64Url(wrapped.value),
        passphrase,
        bytes16(this.me.id),
      );
    } catch {
      throw new PassphraseError('That passphrase is not the one set for this account');
    }
    try {
      return await this.#recoverWith(ssk, displayName, () => {
        throw new PassphraseError('That passphrase is not the one set for this account');
      });
    } finally {
      ssk.fill(0);
    }
  }

  /**
   * Opens secret storage with the SSK, verifies the published device chain under the recovered
   * USK, adds this device to the list, then restores history from the key backup. Every check
   * that can fail runs before the device list is published, so a failure changes nothing.
   */
  async #recoverWith(
    ssk: Uint8Array,
    displayName: string,
    wrongKey: () => never,
  ): Promise<{ restoredEpochs: number }> {
    const userId = bytes16(this.me.id);
    const secrets = await this.api.keys.secrets.query();
    const stored = secrets.find((s) => s.name === SECRET_NAMES.userSigningKey);
    if (!stored)
      throw new RecoveryKeyError('This account has no encryption identity yet: set up instead');
    let pkcs8: Uint8Array;
    try {
      ({ secret: pkcs8 } = await openSecret(
        ssk,
        userId,
        SECRET_NAMES.userSigningKey,
        fromBase64Url(stored.value),
      ));
    } catch {
      wrongKey();
    }
    const storedBackup = secrets.find((s) => s.name === SECRET_NAMES.backupKey);
    let backupPkcs8: Uint8Array | null = null;
    if (storedBackup) {
      try {
        ({ secret: backupPkcs8 } = await openSecret(
          ssk,
          userId,
          SECRET_NAMES.backupKey,
          fromBase64Url(storedBackup.value),
        ));
      } catch {
        wrongKey();
      }
    }
    try {
      const usk = await importUserSigningKey(pkcs8);
      const chain = await this.identities.fullChain(this.me.id);
      if (chain.length === 0)
        throw new RecoveryKeyError('This account has no published devices to add to');
      // Verifies the whole chain under the recovered key before building on it.
      await this.identities.pinSelf(this.me.id, usk.publicKey, chain);
      await this.#addThisDevice(usk, chain[chain.length - 1]!, displayName);
      await this.#keepSecrets({ usk: pkcs8, backup: backupPkcs8, ssk });
      if (!backupPkcs8) return { restoredEpochs: 0 };
      const backupKey = await importBackupKey(backupPkcs8);
      await this.api.backup.setKey.mutate({ publicKey: toBase64Url(backupKey.publicKey) });
      const epochs = await downloadBackup(this.api, backupKey);
      return { restoredEpochs: await installEpochs(this.api, this.local, this.#device!, epochs) };
    } finally {
      pkcs8.fill(0);
      backupPkcs8?.fill(0);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Passphrase (§3.9)

  /**
   * Whether this device backs up the conversation keys it makes: it holds the backup public key
   * and that key is the one the account publishes (a reset elsewhere replaces it).
   */
  async isBackingUp(): Promise<boolean> {
    const [mine, published] = await Promise.all([
      this.local.getSecret('backup-public'),
      this.api.backup.key.query(),
    ]);
    return !!mine && !!published && toBase64Url(mine) === published.publicKey;
  }

  /** Whether the account has a passphrase-wrapped recovery. */
  async hasPassphrase(): Promise<boolean> {
    const secrets = await this.api.keys.secrets.query();
    return secrets.some((s) => s.name === PASSPHRASE_SECRET);
  }

  /**
   * Wraps the secret-storage key under `passphrase` (Argon2id, 64 MiB, t = 3, p = 4) and stores
   * it, replacing any earlier passphrase. The caller checks strength first. Needs the SSK: this
   * device's copy, or the recovery key typed again (a linked device never received the SSK).
   */
  async setPassphrase(passphrase: string, recoveryKey?: string): Promise<void> {
    const userId = bytes16(this.me.id);
    let ssk: Uint8Array | undefined;
    if (recoveryKey !== undefined) {
      try {
        ssk = await decodeRecoveryKey(recoveryKey);
      } catch (error) {
        throw new RecoveryKeyError(
          error instanceof Error ? error.message : 'That is not a recovery key',
        );
      }
      // It must be this account's key: it has to open the stored signing key.
      const stored = (await this.api.keys.secrets.query()).find(
        (s) => s.name === SECRET_NAMES.userSigningKey,
      );
      try {
        if (!stored) throw new Error();
        (
          await openSecret(ssk, userId, SECRET_NAMES.userSigningKey, fromBase64Url(stored.value))
        ).secret.fill(0);
      } catch {
        throw new RecoveryKeyError('That recovery key does not belong to this account');
      }
    } else {
      ssk = await this.local.getSecret('ssk');
      if (!ssk) {
        throw new RecoveryKeyError(
          'Enter the recovery key to set a passphrase on this device (it was linked, so it never had it)',
        );
      }
    }
    try {
      const wrapped = await wrapWithPassphrase(ssk, passphrase, userId);
      await this.api.keys.putSecrets.mutate({
        secrets: [{ name: PASSPHRASE_SECRET, value: toBase64Url(wrapped) }],
      });
      await this.local.setSecret('ssk', ssk);
    } finally {
      ssk.fill(0);
    }
  }

  /** Removes the passphrase: only the recovery key (or another device) can recover afterwards. */
  async removePassphrase(): Promise<void> {
    try {
      await this.api.keys.deleteSecret.mutate({ name: PASSPHRASE_SECRET });
    } catch (error) {
      if (apiErrorCode(error) !== 'NOT_FOUND') throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The signed device list: linking (§3.3 flow A) and revoking

  /** This user's newest published device list, verified against the pinned identity. */
  async #currentList(): Promise<DeviceList> {
    await this.identities.refresh([this.me.id], true);
    const [row] = await this.api.keys.deviceLists.query({ userIds: [this.me.id] });
    const record = await this.identities.get(this.me.id);
    if (!row || !record || row.version !== record.pin.listVersion) throw new AuthenticationError();
    return decodeDeviceList(fromBase64Url(row.list));
  }

  async #publishList(usk: KeyPair, list: DeviceList): Promise<void> {
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
  }

  /**
   * On the new device: creates its keys, a one-off X25519 key and the link secret, and leaves
   * the sealed request on the server. The caller shows the code and waits with {@link finishLink}.
   *
   * The request is kept in local state until it ends, and a restart picks it up again while the
   * server still holds it: a reload between the other device's approval and this one's fetch
   * would otherwise lose the keys sent to it and leave an unusable device in the user's list.
   */
  async startLink(displayName: string): Promise<PendingLinkState & { code: string }> {
    if (await this.hasDevice()) throw new Error('This device is already set up');
    const resumed = await this.#resumableLink();
    if (resumed) return resumed;
    const [published] = await this.api.keys.deviceLists.query({ userIds: [this.me.id] });
    if (!published) {
      throw new Error('This account has no encryption identity yet: set it up instead of linking');
    }
    const device = await createDeviceKeys(bytes16(this.me.id));
    const { request, linkKey } = await createLinkRequest(device);
    const handle = await linkHandle(request.linkSecret);
    const sealed = await sealLinkRequest(request, displayName);
    const { expiresAt } = await this.api.devices.createLink.mutate({
      handle,
      request: toBase64Url(sealed),
    });
    const pending = {
      device,
      request,
      linkKey,
      handle,
      expiresAt,
      code: await encodeLinkCode(request.linkSecret),
    };
    await this.local.setPendingLink(pending);
    return pending;
  }

  /** The stored link request, if the server still holds it unexpired; otherwise forgets it. */
  async #resumableLink(): Promise<(PendingLinkState & { code: string }) | undefined> {
    const stored = await this.local.getPendingLink<PendingLinkState & { code: string }>();
    if (!stored) return undefined;
    if (stored.expiresAt.getTime() > Date.now()) {
      try {
        const status = await this.api.devices.linkStatus.query({ handle: stored.handle });
        if (status.status !== 'expired') return stored;
      } catch (error) {
        if (apiErrorCode(error) !== 'NOT_FOUND') throw error;
      }
    }
    await this.local.deletePendingLink();
    return undefined;
  }

  /** Withdraws the request (if the server still has it) and forgets it. */
  async cancelLink(pending: PendingLinkState): Promise<void> {
    try {
      await this.api.devices.cancelLink.mutate({ handle: pending.handle });
    } catch (error) {
      if (apiErrorCode(error) !== 'NOT_FOUND') throw error;
    }
    await this.local.deletePendingLink();
  }

  /**
   * On the new device: checks once whether the request was approved. When it was, opens the
   * provisioning envelope, checks that the sender and this device are in the user's signed
   * list, then becomes a full device: keys stored, session bound, history installed. Returns
   * false while still pending.
   */
  async finishLink(pending: PendingLinkState): Promise<boolean> {
    try {
      const done = await this.#finishLink(pending);
      // Linked: nothing left to resume.
      if (done) await this.local.deletePendingLink();
      return done;
    } catch (error) {
      // Expired, withdrawn or failed verification: the request cannot succeed any more.
      if (error instanceof LinkError) await this.local.deletePendingLink();
      throw error;
    }
  }

  async #finishLink(pending: PendingLinkState): Promise<boolean> {
    let status;
    try {
      status = await this.api.devices.linkStatus.query({ handle: pending.handle });
    } catch (error) {
      if (apiErrorCode(error) === 'NOT_FOUND')
        throw new LinkError('expired', 'The link request is gone: start linking again');
      throw error;
    }
    if (
      status.status === 'expired' ||
      (status.status === 'pending' && status.expiresAt.getTime() <= Date.now())
    ) {
      throw new LinkError('expired', 'Linking timed out: start again to get a new code');
    }
    if (status.status === 'pending' || !status.envelope) return false;
    const userId = bytes16(this.me.id);
    let verifiedChain: DeviceList[] = [];
    let bundle: ProvisioningBundle;
    try {
      bundle = await openProvisioning(
        pending.device,
        { linkKey: pending.linkKey, request: pending.request },
        fromBase64Url(status.envelope),
        async (uskPublicKey, senderDeviceId) => {
          const [row] = await this.api.keys.deviceLists.query({ userIds: [this.me.id] });
          if (!row || !ctEqual(fromBase64Url(row.signingKey), uskPublicKey)) return undefined;
          const chain = await this.identities.fullChain(this.me.id);
          if (chain.length === 0) return undefined;
          let verified = await trustOnFirstUse(userId, uskPublicKey, chain[0]!);
          if (chain.length > 1)
            verified = await verifyDeviceListUpdate(verified.pin, chain.slice(1));
          // This device must be in the list the USK signed, with the key it created.
          const self = verified.devices.find((d) => ctEqual(d.deviceId, pending.device.deviceId));
          if (!self || !ctEqual(self.signingPublicKey, pending.device.signing.publicKey))
            return undefined;
          verifiedChain = chain;
          return verified.devices.find((d) => ctEqual(d.deviceId, senderDeviceId))
            ?.signingPublicKey;
        },
      );
    } catch (error) {
      if (!(error instanceof AuthenticationError) && !(error instanceof InvalidInputError))
        throw error;
      throw new LinkError(
        'invalid',
        'The reply from your other device failed verification: start linking again',
      );
    }
    const usk = await importUserSigningKey(bundle.uskPkcs8);
    try {
      await this.local.setUserSigningKey(usk);
      await registerDevice(this.api, this.local, pending.device);
      this.#device = pending.device;
      await this.identities.pinSelf(this.me.id, usk.publicKey, verifiedChain);
      await this.#keepSecrets({ usk: bundle.uskPkcs8, backup: bundle.backupKeyPkcs8, ssk: null });
      await installEpochs(this.api, this.local, pending.device, bundle.epochs);
    } finally {
      bundle.uskPkcs8.fill(0);
      bundle.backupKeyPkcs8?.fill(0);
    }
    await this.api.devices.cancelLink.mutate({ handle: pending.handle }).catch(() => {});
    return true;
  }

  /**
   * On an existing device: finds the request behind a typed or scanned code and opens it with
   * the link secret in the code. Throws LinkCodeError for a typo or a code matching nothing.
   */
  async inspectLink(
    code: string,
  ): Promise<{ request: LinkRequest; name: string; handle: string; expiresAt: Date }> {
    await this.device();
    const secret = await decodeLinkCode(code);
    const handle = await linkHandle(secret);
    let found;
    try {
      found = await this.api.devices.linkRequest.query({ handle });
    } catch (error) {
      if (apiErrorCode(error) === 'NOT_FOUND') {
        throw new LinkCodeError(
          'not-found',
          'No device is waiting with this code: it may have expired or been used. Start again on the new device',
        );
      }
      throw error;
    }
    const { request, name } = await openLinkRequest(
      secret,
      bytes16(this.me.id),
      fromBase64Url(found.request),
    );
    return { request, name, handle, expiresAt: found.expiresAt };
  }

  /**
   * On an existing device, after the user confirmed: adds the new device's certificate to the
   * signed list (version + 1), then leaves the provisioning envelope: the USK, the backup key and
   * the newest epoch secrets, HPKE-sealed to the new device's one-off key with the link secret
   * bound in, signed by this device.
   */
  async approveLink(link: {
    request: LinkRequest;
    name: string;
    handle: string;
    expiresAt: Date;
  }): Promise<void> {
    const device = await this.device();
    // Checked before the list changes, so a request that ran out leaves no device behind.
    if (link.expiresAt.getTime() <= Date.now()) {
      throw new LinkCodeError(
        'not-found',
        'The new device stopped waiting (the code expired): start again on it',
      );
    }
    const uskPkcs8 = await this.local.getSecret('usk-pkcs8');
    const usk = await this.local.getUserSigningKey();
    if (!uskPkcs8 || !usk) {
      throw new Error(
        'This device cannot link others (it was set up before linking existed): recover on the new device with the recovery key',
      );
    }
    const previous = await this.#currentList();
    if (previous.certs.length >= MAX_DEVICES) throw new Error('This account has too many devices');
    const cert = await signDeviceCert(usk, {
      userId: link.request.userId,
      deviceId: link.request.deviceId,
      dskPublicKey: link.request.dskPublicKey,
      createdAtMs: Date.now(),
      displayName: link.name,
    });
    const alreadyListed = previous.certs.some((c) => ctEqual(c.deviceId, link.request.deviceId));
    if (!alreadyListed) {
      const list = await nextDeviceList(usk, previous, { add: [cert] });
      await this.#publishList(usk, list);
      await this.identities.refresh([this.me.id], true);
    }
    const envelope = await sealProvisioning(device, link.request, {
      uskPkcs8,
      backupKeyPkcs8: (await this.local.getSecret('backup-pkcs8')) ?? null,
      epochs: await this.#recentEpochs(),
    });
    try {
      await this.api.devices.approveLink.mutate({
        handle: link.handle,
        envelope: toBase64Url(envelope),
      });
    } catch (error) {
      if (apiErrorCode(error) === 'NOT_FOUND') {
        throw new LinkCodeError(
          'not-found',
          'The new device stopped waiting (expired or cancelled): start again on it',
        );
      }
      throw error;
    }
  }

  /** The newest epoch secrets this device holds (never ephemeral ones), for a new device. */
  async #recentEpochs(): Promise<EpochSecret[]> {
    const all: (EpochSecret & { at: number })[] = [];
    for (const conversationId of await this.local.conversationsWithEpochs()) {
      for (const data of await this.local.epochsOf(conversationId)) {
        if (data.ephemeral || !data.epochSecret) continue;
        all.push({
          convId: data.convId,
          epoch: data.epoch,
          epochSecret: data.epochSecret,
          rosterHash: data.rosterHash,
          at: data.createdAtMs,
        });
      }
    }
    return all
      .sort((a, b) => b.at - a.at)
      .slice(0, PROVISIONED_EPOCHS)
      .map(({ at: _at, ...e }) => e);
  }

  /**
   * Revokes another device of this user: a new signed list without it (the server ends its
   * sessions and marks every conversation of the user for rotation), then pins the new list.
   * The caller rotates the conversations (see rotateAll) so nothing sent afterwards reaches it.
   */
  /**
   * A new name for one of this user's devices, signed by the user signing key, given at
   * `renamedAtMs` (which orders the names of a device).
   */
  async signDeviceName(deviceId: string, name: string, renamedAtMs: number): Promise<Uint8Array> {
    const usk = await this.local.getUserSigningKey();
    if (!usk) throw new DeviceNotSetUpError();
    return signDeviceName(usk, {
      userId: bytes16(this.me.id),
      deviceId: bytes16(deviceId),
      name,
      renamedAtMs,
    });
  }

  /**
   * The names in signed device names (device id → name and when it was given) that verify under
   * this user's signing key for the device they are stored with; the others are left out (the
   * caller shows the certificate's name for those).
   */
  async verifiedDeviceNames(
    entries: { deviceId: string; signed: Uint8Array }[],
  ): Promise<Map<string, { name: string; renamedAtMs: number }>> {
    const names = new Map<string, { name: string; renamedAtMs: number }>();
    const usk = await this.local.getUserSigningKey();
    if (!usk) return names;
    for (const { deviceId, signed } of entries) {
      try {
        const body = await openDeviceName(signed, usk.publicKey);
        if (toHex(body.deviceId) === deviceId && toHex(body.userId) === this.me.id)
          names.set(deviceId, { name: body.name, renamedAtMs: body.renamedAtMs });
      } catch {
        // Not signed by this user for this device: not shown.
      }
    }
    return names;
  }

  async revoke(deviceId: string): Promise<void> {
    const device = await this.device();
    if (toHex(device.deviceId) === deviceId) {
      throw new Error(
        'This device cannot revoke itself: sign out, or revoke it from another device',
      );
    }
    const usk = await this.local.getUserSigningKey();
    if (!usk) throw new DeviceNotSetUpError();
    const previous = await this.#currentList();
    if (!previous.certs.some((c) => toHex(c.deviceId) === deviceId)) {
      throw new Error('That device is not in this account’s device list');
    }
    const list = await nextDeviceList(usk, previous, { revoke: [bytes16(deviceId)] });
    await this.#publishList(usk, list);
    await this.identities.refresh([this.me.id], true);
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
    await this.#publishList(usk, list);
    await this.local.setUserSigningKey(usk);
    await registerDevice(this.api, this.local, device);
    this.#device = device;
    await this.identities.pinSelf(this.me.id, usk.publicKey, [list]);
  }

  /** Adds a new epoch to the key backup; never fails the operation that created the epoch. */
  async #backUp(conversationId: string, state: EpochState): Promise<void> {
    try {
      await backUpEpoch(this.api, this.local, conversationId, state);
    } catch {
      // Kept as pending where possible (see backUpEpoch); messaging goes on either way.
    }
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
    // A committer added moments ago (a linked or recovered device) is not in a list fetched a
    // few seconds earlier: fetch its owner's list again before deciding the sender is unknown.
    if (!(await this.identities.directory()).deviceKey(header.senderUser, header.senderDevice)) {
      await this.identities.refresh([toHex(header.senderUser)], true);
    }
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
    await this.#backUp(conversationId, state);
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
      await this.#backUp(conversationId, commit.state);
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
   * moved to a new epoch. Returns the stored record. A `silent` message does not count as unread
   * for its recipients.
   *
   * The id of a message this device stored but the server never acknowledged (a send that failed,
   * or was cut short by a restart) sends that message as stored, whatever `content` says (a file
   * message stays one), and with the bytes it was encrypted to if it got that far: a new
   * encryption would use up another chain index, which its recipients would report as a missing
   * message. The id of a message already sent returns it as it is.
   */
  async send(
    conversationId: string,
    content: Content,
    clientMessageId = toHex(randomBytes(16)),
    options: { silent?: boolean } = {},
  ): Promise<MessageRecord> {
    const device = await this.device();
    const stored = await this.local.getMessage(conversationId, clientMessageId);
    const own = stored?.senderUserId === this.me.id && !stored.deleted;
    if (own && stored.seq !== null) return stored;
    const record: MessageRecord = own
      ? stored
      : {
          seq: null,
          conversationId,
          clientMessageId,
          senderUserId: this.me.id,
          senderDeviceId: toHex(device.deviceId),
          sentAt: Date.now(),
          content,
          deleted: false,
        };
    // Saved before sending: this device cannot decrypt its own messages, so the event that
    // echoes it back finds the plaintext here.
    if (record !== stored) {
      await this.local.setMessage(record);
      if (isResendable(record)) await this.local.setUnsent(conversationId, clientMessageId);
    }
    for (let attempt = 1; ; attempt++) {
      if (!record.outgoing) {
        const sending = record.content ?? content;
        const state = await this.sendState(conversationId);
        const { wire, header } = await encryptMessage({
          state,
          sender: device,
          content: sending,
          clientMsgId: bytes16(clientMessageId),
          sentAtMs: record.sentAt,
        });
        record.chain = { epoch: header.epoch, index: header.chainIndex };
        // The chain index is written down as used together with the bytes that use it, in one
        // write, before they leave: a device stopped before never sent them and uses the index
        // again; one stopped after sends these bytes again. Recipients never see an index
        // skipped, nor two messages at one.
        record.outgoing = {
          epoch: state.epoch,
          wire,
          ...(sending.type === 'file' ? { fileIds: attachedFileIds(sending) } : {}),
          ...(options.silent ? { silent: true } : {}),
        };
        const cached = `${conversationId}/${state.epoch}`;
        this.#states.set(cached, state);
        try {
          await this.local.setMessageAndEpoch(record, state.serialize());
        } catch (error) {
          // Not stored: the next send starts again from the stored state, at the same index.
          this.#states.delete(cached);
          delete record.outgoing;
          throw error;
        }
      }
      const { epoch, wire, fileIds, silent } = record.outgoing;
      let ack: { seq: number };
      try {
        ack = await this.api.messages.send.mutate({
          conversationId,
          epoch,
          clientMessageId,
          sentAt: new Date(record.sentAt),
          ciphertext: toBase64Url(wire),
          ...(fileIds?.length ? { fileIds } : {}),
          ...(silent ? { silent: true } : {}),
        });
      } catch (error) {
        if (attempt >= SEND_ATTEMPTS) throw error;
        if (isStale(error)) delete record.outgoing;
        else if (isTransient(error)) await sleep(Math.min(4000, 250 * 2 ** attempt));
        else throw error;
        continue;
      }
      record.seq = ack.seq;
      delete record.outgoing;
      await this.local.setMessage(record);
      await this.local.setMessageIdBySeq(conversationId, ack.seq, clientMessageId);
      if (isResendable(record)) await this.local.deleteUnsent(conversationId, clientMessageId);
      return record;
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
        delete known.outgoing;
        changed = true;
      }
      if (dto.deleted && !known.deleted) {
        known.deleted = true;
        known.content = null;
        changed = true;
      }
      if (changed) await this.local.setMessage(known);
      await this.local.setMessageIdBySeq(conversationId, dto.seq, dto.clientMessageId);
      if (isResendable(known)) await this.local.deleteUnsent(conversationId, dto.clientMessageId);
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
    let state: EpochState | undefined;
    if (!dto.deleted && dto.ciphertext) {
      try {
        let chain: MessageRecord['chain'];
        ({
          content: record.content,
          state,
          chain,
        } = await this.#decrypt(dto, fromBase64Url(dto.ciphertext)));
        record.chain = chain;
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
    // The plaintext is stored before the chain that used up its index. A device that stops
    // between the two writes (a tab closed or reloaded) then finds the message, or decrypts it
    // again with its index still unused; the other order would find the index used and no
    // plaintext, and show the message as undecryptable for good.
    try {
      await this.local.setMessage(record);
    } catch (error) {
      // Not stored, so not used up either: the next attempt starts from the state on disk.
      if (state) this.#states.delete(`${conversationId}/${state.epoch}`);
      throw error;
    }
    if (state) await this.#saveState(conversationId, state);
    await this.local.setMessageIdBySeq(conversationId, dto.seq, dto.clientMessageId);
    return record;
  }

  /** Decrypts a message; the epoch state it advanced is the caller's to save. */
  async #decrypt(
    dto: MessageDto,
    wire: Uint8Array,
  ): Promise<{
    content: Content;
    state: EpochState | undefined;
    chain: NonNullable<MessageRecord['chain']>;
  }> {
    const header = peekMessageHeader(wire);
    // The routing facts the server attached must be the ones the sender signed, and so must the
    // time it shows.
    if (
      toHex(header.senderUser) !== dto.senderUserId ||
      toHex(header.senderDevice) !== dto.senderDeviceId ||
      toHex(header.clientMsgId) !== dto.clientMessageId ||
      header.epoch !== dto.epoch ||
      header.sentAtMs !== dto.sentAt.getTime()
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
    if (decrypted.gap) {
      this.notify({
        type: 'messages-missing',
        conversationId: dto.conversationId,
        senderUserId: dto.senderUserId,
        count: decrypted.gap.to - decrypted.gap.from,
      });
    }
    return {
      content: decrypted.content,
      state,
      chain: { epoch: header.epoch, index: header.chainIndex },
    };
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
