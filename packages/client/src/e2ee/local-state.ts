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
  sentAt: number;
  /** The decrypted content, or null when it failed a check (shown as "could not decrypt"). */
  content: Content | null;
  deleted: boolean;
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

  getTitle = (conversationId: string) => this.store.get<string>(this.k('title', conversationId));
  setTitle = (conversationId: string, title: string) =>
    this.store.set(this.k('title', conversationId), title);

  getLastEventId = () => this.store.get<string>(this.k('last-event-id'));
  setLastEventId = (id: string) => this.store.set(this.k('last-event-id'), id);
}
