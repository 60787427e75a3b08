import type {
  Bytes,
  Content,
  DeviceKeys,
  EpochStateData,
  KeyPair,
  PinnedIdentity,
  PrivatePrekey,
  VerifiedDevice,
} from '@securechat/crypto';
import type { KeyStore } from '../key-store.ts';

/** What this device knows of a user's identity: the pin and the devices its list vouches for. */
export interface IdentityRecord {
  pin: PinnedIdentity;
  devices: VerifiedDevice[];
  /** Marked verified by comparing safety numbers. */
  verified: boolean;
}

/** A message this device has decrypted (or sent), kept so it is never decrypted twice. */
export interface MessageRecord {
  seq: number | null;
  conversationId: string;
  clientMessageId: string;
  senderUserId: string;
  senderDeviceId: string;
  /** When the sender's device says it sent it (signed, in the message header). */
  sentAt: number;
  /**
   * Where the message stands in its sender device's chain (signed): a later message of that device
   * in the conversation has a higher epoch, or the same epoch and a higher index. Missing on records
   * stored before it was kept, and on messages that failed to decrypt.
   */
  chain?: { epoch: number; index: number };
  /** The decrypted content, or null when it failed a check (shown as "could not decrypt"). */
  content: Content | null;
  deleted: boolean;
  /**
   * A message of this device that the server has not acknowledged: the bytes that were sent (or
   * were about to be), so a retry, even after a restart, sends them again instead of using up a
   * new chain index. Dropped once the message has its seq.
   */
  outgoing?: OutgoingMessage;
}

export interface OutgoingMessage {
  epoch: number;
  wire: Bytes;
  fileIds?: string[];
  silent?: boolean;
}

const pad = (n: number) => String(n).padStart(12, '0');

/**
 * Typed access to one user's local state in a KeyStore. Every key is prefixed by the user id,
 * so several accounts can share one store.
 */
export class LocalState {
  constructor(
    private readonly store: KeyStore,
    private readonly userId: string,
  ) {}

  private k(...parts: (string | number)[]): string {
    return [this.userId, ...parts].join('/');
  }

  getDevice = () => this.store.get<DeviceKeys>(this.k('device'));
  setDevice = (device: DeviceKeys) => this.store.set(this.k('device'), device);
  getUserSigningKey = () => this.store.get<KeyPair>(this.k('usk'));
  setUserSigningKey = (usk: KeyPair) => this.store.set(this.k('usk'), usk);

  getPrekey = (kind: 'spk' | 'opk', id: number) =>
    this.store.get<PrivatePrekey>(this.k('prekey', kind, pad(id)));
  setPrekey = (p: PrivatePrekey) => this.store.set(this.k('prekey', p.kind, pad(p.prekeyId)), p);
  deletePrekey = (kind: 'spk' | 'opk', id: number) =>
    this.store.delete(this.k('prekey', kind, pad(id)));
  async prekeys(kind: 'spk' | 'opk'): Promise<PrivatePrekey[]> {
    const keys = await this.store.keys(this.k('prekey', kind, ''));
    return (await Promise.all(keys.map((key) => this.store.get<PrivatePrekey>(key)))).filter(
      (p): p is PrivatePrekey => p !== undefined,
    );
  }
  /** The link request this (new) device waits on, so a restart resumes it (see Engine.startLink). */
  getPendingLink = <T>() => this.store.get<T>(this.k('link'));
  setPendingLink = (link: unknown) => this.store.set(this.k('link'), link);
  deletePendingLink = () => this.store.delete(this.k('link'));
  getCounter = async (name: string) => (await this.store.get<number>(this.k('counter', name))) ?? 0;
  setCounter = (name: string, value: number) => this.store.set(this.k('counter', name), value);

  getIdentity = (userId: string) => this.store.get<IdentityRecord>(this.k('identity', userId));
  setIdentity = (userId: string, record: IdentityRecord) =>
    this.store.set(this.k('identity', userId), record);
  async identities(): Promise<IdentityRecord[]> {
    const keys = await this.store.keys(this.k('identity', ''));
    return (await Promise.all(keys.map((key) => this.store.get<IdentityRecord>(key)))).filter(
      (r): r is IdentityRecord => r !== undefined,
    );
  }

  getEpoch = (conversationId: string, epoch: number) =>
    this.store.get<EpochStateData>(this.k('epoch', conversationId, pad(epoch)));
  setEpoch = (conversationId: string, data: EpochStateData) =>
    this.store.set(this.k('epoch', conversationId, pad(data.epoch)), data);
  getRoster = (conversationId: string, epoch: number) =>
    this.store.get<Bytes>(this.k('roster', conversationId, pad(epoch)));
  setRoster = (conversationId: string, epoch: number, roster: Uint8Array) =>
    this.store.set(this.k('roster', conversationId, pad(epoch)), roster);

  getMessage = (conversationId: string, clientMessageId: string) =>
    this.store.get<MessageRecord>(this.k('message', conversationId, clientMessageId));
  setMessage = (record: MessageRecord) =>
    this.store.set(this.k('message', record.conversationId, record.clientMessageId), record);
  /** A message and its conversation's epoch state, in one write: both are stored, or neither. */
  setMessageAndEpoch = (record: MessageRecord, epoch: EpochStateData) =>
    this.store.setMany([
      [this.k('epoch', record.conversationId, pad(epoch.epoch)), epoch],
      [this.k('message', record.conversationId, record.clientMessageId), record],
    ]);
  getMessageIdBySeq = (conversationId: string, seq: number) =>
    this.store.get<string>(this.k('seq', conversationId, pad(seq)));
  setMessageIdBySeq = (conversationId: string, seq: number, clientMessageId: string) =>
    this.store.set(this.k('seq', conversationId, pad(seq)), clientMessageId);
  async messagesOf(conversationId: string): Promise<MessageRecord[]> {
    const keys = await this.store.keys(this.k('message', conversationId, ''));
    return (await Promise.all(keys.map((key) => this.store.get<MessageRecord>(key)))).filter(
      (r): r is MessageRecord => r !== undefined,
    );
  }

  /**
   * Messages of this device (text and files) that wait for the server's acknowledgement: an index,
   * so what is left to send again is found without reading every message.
   */
  setUnsent = (conversationId: string, clientMessageId: string) =>
    this.store.set(this.k('unsent', conversationId, clientMessageId), true);
  deleteUnsent = (conversationId: string, clientMessageId: string) =>
    this.store.delete(this.k('unsent', conversationId, clientMessageId));
  async unsent(): Promise<{ conversationId: string; clientMessageId: string }[]> {
    const prefix = this.k('unsent', '');
    return (await this.store.keys(prefix)).map((key) => {
      const [conversationId = '', clientMessageId = ''] = key.slice(prefix.length).split('/');
      return { conversationId, clientMessageId };
    });
  }

  getTitle = (conversationId: string) => this.store.get<string>(this.k('title', conversationId));
  setTitle = (conversationId: string, title: string) =>
    this.store.set(this.k('title', conversationId), title);

  getLastEventId = () => this.store.get<string>(this.k('last-event-id'));
  setLastEventId = (id: string) => this.store.set(this.k('last-event-id'), id);

  // -------------------------------------------------------------------------------------------
  // Local history (the web app's cache): reading it back, clearing it, and notes about it.

  deleteMessage = (conversationId: string, clientMessageId: string) =>
    this.store.delete(this.k('message', conversationId, clientMessageId));

  /** The conversations that have decrypted messages on this device. */
  async conversationsWithMessages(): Promise<string[]> {
    const prefix = this.k('message', '');
    const ids = new Set<string>();
    for (const key of await this.store.keys(prefix))
      ids.add(key.slice(prefix.length).split('/')[0]!);
    return [...ids];
  }

  /** The ids of a conversation's messages that have a server order (the `last` few), oldest first. */
  async messageIdsBySeq(
    conversationId: string,
    last = Infinity,
  ): Promise<{ seq: number; id: string }[]> {
    const prefix = this.k('seq', conversationId, '');
    const all = await this.store.keys(prefix);
    const keys = last < all.length ? all.slice(all.length - last) : all;
    const ids = await Promise.all(keys.map((key) => this.store.get<string>(key)));
    return keys.flatMap((key, i) =>
      ids[i] ? [{ seq: Number(key.slice(prefix.length)), id: ids[i] }] : [],
    );
  }

  /**
   * Forgets every decrypted message of a conversation (except ones still being sent) and its seq
   * index. Callers record {@link setClearedSeq} first, so nothing cleared is fetched again.
   */
  async deleteMessages(conversationId: string): Promise<void> {
    for (const record of await this.messagesOf(conversationId)) {
      if (record.seq !== null) await this.deleteMessage(conversationId, record.clientMessageId);
    }
    for (const key of await this.store.keys(this.k('seq', conversationId, ''))) {
      await this.store.delete(key);
    }
    for (const key of await this.store.keys(this.k('missing', conversationId, ''))) {
      await this.store.delete(key);
    }
  }

  /**
   * The highest seq cleared from this device's history: messages up to it are neither fetched
   * nor decrypted again (each message key works once, so they could only show as failures).
   */
  getClearedSeq = async (conversationId: string) =>
    (await this.store.get<number>(this.k('cleared', conversationId))) ?? 0;
  setClearedSeq = (conversationId: string, seq: number) =>
    this.store.set(this.k('cleared', conversationId), seq);

  /** The last conversation list fetched, for showing at once (and offline) on the next start. */
  getConversationCache = <T>() => this.store.get<T>(this.k('conversations'));
  setConversationCache = (summaries: unknown) => this.store.set(this.k('conversations'), summaries);

  /** A "messages missing" notice, kept so the conversation can show where it happened. */
  addMissingNotice = (notice: MissingNotice) =>
    this.store.set(
      this.k('missing', notice.conversationId, `${pad(notice.detectedAt)}-${notice.senderUserId}`),
      notice,
    );
  async missingNotices(conversationId: string): Promise<MissingNotice[]> {
    const keys = await this.store.keys(this.k('missing', conversationId, ''));
    return (await Promise.all(keys.map((key) => this.store.get<MissingNotice>(key)))).filter(
      (n): n is MissingNotice => n !== undefined,
    );
  }

  /** Forgets a conversation's epoch states (after an identity reset they belong to a dead device). */
  async deleteEpochs(conversationId: string): Promise<void> {
    for (const key of await this.store.keys(this.k('epoch', conversationId, ''))) {
      await this.store.delete(key);
    }
  }

  /** Every epoch state this device holds for a conversation. */
  async epochsOf(conversationId: string): Promise<EpochStateData[]> {
    const keys = await this.store.keys(this.k('epoch', conversationId, ''));
    return (await Promise.all(keys.map((key) => this.store.get<EpochStateData>(key)))).filter(
      (d): d is EpochStateData => d !== undefined,
    );
  }

  /**
   * Private key material kept for multi-device (§3.3, §3.9): the USK and backup key as PKCS#8
   * (an existing device hands them to a new one when linking) and the secret-storage key (to set
   * a passphrase later). Sealed at rest by EncryptingKeyStore, like epoch states.
   */
  getSecret = (name: 'usk-pkcs8' | 'backup-pkcs8' | 'backup-public' | 'ssk') =>
    this.store.get<Bytes>(this.k('secret', name));
  setSecret = (name: 'usk-pkcs8' | 'backup-pkcs8' | 'backup-public' | 'ssk', value: Uint8Array) =>
    this.store.set(this.k('secret', name), Uint8Array.from(value));
  deleteSecret = (name: 'usk-pkcs8' | 'backup-pkcs8' | 'backup-public' | 'ssk') =>
    this.store.delete(this.k('secret', name));

  /** Key-backup entries not uploaded yet (the upload failed); retried with the next one. */
  setPendingBackup = (entry: PendingBackupEntry) =>
    this.store.set(this.k('backup-pending', entry.conversationId, pad(entry.epoch)), entry);
  deletePendingBackup = (conversationId: string, epoch: number) =>
    this.store.delete(this.k('backup-pending', conversationId, pad(epoch)));
  async pendingBackups(): Promise<PendingBackupEntry[]> {
    const keys = await this.store.keys(this.k('backup-pending', ''));
    return (await Promise.all(keys.map((key) => this.store.get<PendingBackupEntry>(key)))).filter(
      (e): e is PendingBackupEntry => e !== undefined,
    );
  }

  /** The conversations this device holds epoch keys for. */
  async conversationsWithEpochs(): Promise<string[]> {
    const prefix = this.k('epoch', '');
    const ids = new Set<string>();
    for (const key of await this.store.keys(prefix))
      ids.add(key.slice(prefix.length).split('/')[0]!);
    return [...ids];
  }
}

/**
 * A jump in a sender's chain: messages that did not reach this device. The server did not deliver
 * them, or the sender's device encrypted them and never sent them (a failed send it discarded).
 */
export interface MissingNotice {
  conversationId: string;
  senderUserId: string;
  count: number;
  /** When this device noticed (ms since the epoch), which places the marker in the timeline. */
  detectedAt: number;
}

/** A sealed key-backup entry waiting to be uploaded. */
export interface PendingBackupEntry {
  conversationId: string;
  epoch: number;
  entry: Bytes;
}
