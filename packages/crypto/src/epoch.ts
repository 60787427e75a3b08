/**
 * The per-epoch key schedule (§3.5): one shared epoch secret `S_e`, one HMAC chain per sending
 * device, one AES-256-GCM key and nonce per message.
 *
 * ```
 * PRK_e   = HKDF-Extract(salt = roster_hash_e, IKM = S_e)
 * CK_0(d) = HKDF-Expand(PRK_e, "securechat/v1/sender-chain" || device_id, 32)
 * MK_i    = HMAC-SHA256(CK_i, 0x01)        CK_{i+1} = HMAC-SHA256(CK_i, 0x02)
 * key_i || nonce_i = HKDF-Expand(MK_i, "securechat/v1/msg-key", 32 + 12)
 * ```
 *
 * What each step protects:
 * - Extracting with the roster hash as salt binds every key to the exact signed membership: a
 *   member who is told a different roster derives different keys and cannot decrypt.
 * - Expanding per device id gives every sender its own chain, so senders never coordinate and a
 *   (key, nonce) pair is never used by two devices.
 * - Every message key is used exactly once (the chain only moves forward and used indexes are
 *   refused), which is what makes the derived, deterministic GCM nonce safe.
 *
 * Receiving keeps, per sender device, the chain key at the next unseen index, plus a cache of at
 * most 1000 skipped message keys for messages that arrive out of order. An index more than 10,000
 * ahead of a chain is refused (it would cost unbounded work), and an index that was already used
 * (or whose skipped key was evicted) is refused: that is the replay protection. State changes are
 * committed only after the message authenticates, so forged messages cannot advance chains or
 * evict skipped keys.
 *
 * "Ephemeral" epochs derive every roster device's `CK_0` up front and discard `S_e`, giving
 * forward secrecy inside the epoch for this device (chain and message keys are overwritten after
 * use). They cannot be backed up or handed to new devices.
 *
 * @module
 */
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  checkList,
  compareBytes,
  concatBytes,
  MAX_U64,
  toHex,
  type Bytes,
} from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { ID_LENGTH, PROTOCOL_VERSION } from './identity.ts';
import { KDF_LABELS } from './labels.ts';
import {
  hkdfExpandSha256Sync,
  hkdfExtractSha256Sync,
  hmacSha256SyncEach,
  importAesGcmKey,
  loadSyncSha256,
} from './primitives.ts';

/** Limits of the per-epoch key schedule. */
export const EPOCH_POLICY = {
  /** Most skipped message keys kept per epoch (oldest evicted first). */
  maxSkippedKeys: 1000,
  /** Most indexes a message may be ahead of its sender's chain. */
  maxForwardJump: 10_000,
  /** Start a new epoch after this long (§3.7, SHOULD). */
  rotateAfterMs: 7 * 24 * 60 * 60 * 1000,
  /** Start a new epoch after this many messages sent and received in it (§3.7, SHOULD). */
  rotateAfterMessages: 1000,
  /** Highest chain index (u32 on the wire). */
  maxChainIndex: 0xffffffff,
} as const;

/** Storage form of an {@link EpochState}: plain data (Uint8Arrays and numbers), structured-clone safe. */
export interface EpochStateData {
  version: 1;
  convId: Bytes;
  epoch: number;
  rosterHash: Bytes;
  /** User ids of the roster members, sorted. */
  members: Bytes[];
  /** `S_e`; `null` for an ephemeral epoch (deleted after deriving the chains). */
  epochSecret: Bytes | null;
  ephemeral: boolean;
  ownDeviceId: Bytes;
  createdAtMs: number;
  /** Messages sent plus received in this epoch (for the rotation policy). */
  messageCount: number;
  /** This device's sending chain: the next index to use and its chain key. */
  send: { nextIndex: number; chainKey: Bytes } | null;
  /** Receiving chains per sender device: the next unseen index and its chain key. */
  receive: { deviceId: Bytes; nextIndex: number; chainKey: Bytes }[];
  /** Cached message keys of skipped indexes, oldest first. */
  skipped: { deviceId: Bytes; index: number; messageKey: Bytes }[];
}

/** Keys for one message, derived from its message key `MK_i`. */
export interface MessageKeys {
  key: CryptoKey;
  nonce: Bytes;
}

/** A gap in a sender's chain: indexes `from` (inclusive) to `to` (exclusive) have not arrived. */
export interface ChainGap {
  from: number;
  to: number;
}

interface Chain {
  nextIndex: number;
  chainKey: Bytes;
}

interface Skipped {
  deviceId: Bytes;
  index: number;
  messageKey: Bytes;
}

/** One chain step: `MK_i = HMAC(CK_i, 0x01)`, `CK_{i+1} = HMAC(CK_i, 0x02)`. */
function chainStep(chainKey: Uint8Array): { messageKey: Bytes; nextChainKey: Bytes } {
  // One key, two messages: the HMAC pads of CK_i are built once.
  const [messageKey, nextChainKey] = hmacSha256SyncEach(chainKey, [ONE, TWO]);
  return { messageKey: messageKey!, nextChainKey: nextChainKey! };
}
const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);

/** `key_i || nonce_i = HKDF-Expand(MK_i, "securechat/v1/msg-key", 44)`. */
export async function deriveMessageKeys(messageKey: Uint8Array): Promise<MessageKeys> {
  checkBytes(messageKey, 'messageKey', 32);
  // States load the hash before use; the await only matters for a direct caller.
  await loadSyncSha256();
  const okm = hkdfExpandSha256Sync(messageKey, KDF_LABELS.messageKey, 44);
  const key = await importAesGcmKey(okm.subarray(0, 32));
  const nonce = okm.slice(32, 44);
  okm.fill(0);
  return { key, nonce };
}

function skippedId(deviceId: Uint8Array, index: number): string {
  return `${toHex(deviceId)}:${index}`;
}

let internals!: {
  takeSendKey(state: EpochState): { chainIndex: number; keys: Promise<MessageKeys> };
  receive<T>(
    state: EpochState,
    deviceId: Uint8Array,
    index: number,
    open: (keys: MessageKeys) => Promise<T>,
  ): Promise<{ result: T; gap: ChainGap | null; late: boolean }>;
};

/**
 * The key schedule of one epoch of one conversation, as held by one device. Create it from a
 * verified commit (`openCommit`, `buildCommit`), persist it with {@link EpochState.serialize}, and
 * bring it back with {@link EpochState.restore}. Message encryption and decryption (`message.ts`)
 * are the only users of its keys.
 *
 * Concurrent use is safe: reading and advancing a chain happen in one synchronous step, a message
 * index being decrypted is marked in flight (a second copy is refused meanwhile), and a chain is
 * committed only after its message authenticated. Many messages of one epoch may be decrypted
 * concurrently.
 */
export class EpochState {
  readonly #convId: Bytes;
  readonly #epoch: number;
  readonly #rosterHash: Bytes;
  readonly #members: Bytes[];
  readonly #memberSet: Set<string>;
  readonly #ownDeviceId: Bytes;
  readonly #createdAtMs: number;
  #epochSecret: Bytes | null;
  #prk: Bytes | null;
  #ephemeral: boolean;
  #messageCount: number;
  #send: Chain | null;
  #receive = new Map<string, Chain & { deviceId: Bytes }>();
  #skipped = new Map<string, Skipped>();
  /** Indexes being decrypted right now; a second copy of one is refused while it is in flight. */
  #inFlight = new Set<string>();

  private constructor(data: EpochStateData, prk: Bytes | null) {
    this.#convId = data.convId;
    this.#epoch = data.epoch;
    this.#rosterHash = data.rosterHash;
    this.#members = data.members;
    this.#memberSet = new Set(data.members.map(toHex));
    this.#ownDeviceId = data.ownDeviceId;
    this.#createdAtMs = data.createdAtMs;
    this.#epochSecret = data.epochSecret;
    this.#prk = prk;
    this.#ephemeral = data.ephemeral;
    this.#messageCount = data.messageCount;
    this.#send = data.send;
    for (const c of data.receive) this.#receive.set(toHex(c.deviceId), { ...c });
    for (const s of data.skipped) this.#skipped.set(skippedId(s.deviceId, s.index), { ...s });
  }

  static {
    internals = {
      takeSendKey: (state) => state.#takeSendKey(),
      receive: (state, deviceId, index, open) => state.#receiveWith(deviceId, index, open),
    };
  }

  /**
   * Start an epoch from its secret `S_e` (32 bytes) and the hash of its verified roster.
   * `members` are the roster's user ids (used for receiver check 4). For an ephemeral epoch pass
   * `ephemeral.deviceIds`: every device of every member, whose chains are derived now before
   * `S_e` is discarded.
   */
  static async create(options: {
    convId: Uint8Array;
    epoch: number;
    rosterHash: Uint8Array;
    members: Uint8Array[];
    epochSecret: Uint8Array;
    ownDeviceId: Uint8Array;
    ephemeral?: { deviceIds: Uint8Array[] };
    nowMs?: number;
  }): Promise<EpochState> {
    const o = options ?? ({} as never);
    checkBytes(o.convId, 'convId', ID_LENGTH);
    checkInt(o.epoch, 'epoch', 0, 0xffffffff);
    checkBytes(o.rosterHash, 'rosterHash', 32);
    checkList<Uint8Array>(o.members, 'members', 10_000);
    for (const m of o.members) checkBytes(m, 'member id', ID_LENGTH);
    checkBytes(o.epochSecret, 'epochSecret', 32);
    checkBytes(o.ownDeviceId, 'ownDeviceId', ID_LENGTH);
    const nowMs = o.nowMs ?? Date.now();
    checkInt(nowMs, 'nowMs', 0, MAX_U64);
    await loadSyncSha256();
    const prk = hkdfExtractSha256Sync(o.rosterHash, o.epochSecret);
    const data: EpochStateData = {
      version: 1,
      convId: Uint8Array.from(o.convId),
      epoch: o.epoch,
      rosterHash: Uint8Array.from(o.rosterHash),
      members: o.members.map((m) => Uint8Array.from(m)).sort(compareBytes),
      epochSecret: Uint8Array.from(o.epochSecret),
      ephemeral: false,
      ownDeviceId: Uint8Array.from(o.ownDeviceId),
      createdAtMs: nowMs,
      messageCount: 0,
      send: { nextIndex: 0, chainKey: initialChainKey(prk, o.ownDeviceId) },
      receive: [],
      skipped: [],
    };
    if (o.ephemeral) {
      checkList<Uint8Array>(o.ephemeral.deviceIds, 'ephemeral.deviceIds', 100_000);
      for (const d of o.ephemeral.deviceIds) {
        checkBytes(d, 'device id', ID_LENGTH);
        data.receive.push({
          deviceId: Uint8Array.from(d),
          nextIndex: 0,
          chainKey: initialChainKey(prk, d),
        });
      }
      data.ephemeral = true;
      data.epochSecret = null;
      prk.fill(0);
      return new EpochState(data, null);
    }
    return new EpochState(data, prk);
  }

  /** Rebuild a state from {@link EpochState.serialize} output (checks every field). */
  static async restore(data: EpochStateData): Promise<EpochState> {
    if (!data || typeof data !== 'object' || data.version !== 1)
      throw new InvalidInputError('epoch state must be version 1 data');
    checkBytes(data.convId, 'convId', ID_LENGTH);
    checkInt(data.epoch, 'epoch', 0, 0xffffffff);
    checkBytes(data.rosterHash, 'rosterHash', 32);
    checkList<Uint8Array>(data.members, 'members', 10_000);
    for (const m of data.members) checkBytes(m, 'member id', ID_LENGTH);
    checkBytes(data.ownDeviceId, 'ownDeviceId', ID_LENGTH);
    checkInt(data.createdAtMs, 'createdAtMs', 0, MAX_U64);
    checkInt(data.messageCount, 'messageCount', 0, MAX_U64);
    if (typeof data.ephemeral !== 'boolean')
      throw new InvalidInputError('ephemeral must be a boolean');
    if (data.ephemeral !== (data.epochSecret === null))
      throw new InvalidInputError('epochSecret must be null exactly for ephemeral epochs');
    if (data.epochSecret !== null) checkBytes(data.epochSecret, 'epochSecret', 32);
    if (data.send !== null) {
      checkInt(data.send?.nextIndex, 'send.nextIndex', 0, EPOCH_POLICY.maxChainIndex + 1);
      checkBytes(data.send.chainKey, 'send.chainKey', 32);
    }
    checkList<EpochStateData['receive'][number]>(data.receive, 'receive', 100_000);
    for (const c of data.receive) {
      checkBytes(c?.deviceId, 'receive.deviceId', ID_LENGTH);
      checkInt(c.nextIndex, 'receive.nextIndex', 0, EPOCH_POLICY.maxChainIndex + 1);
      checkBytes(c.chainKey, 'receive.chainKey', 32);
    }
    checkList<EpochStateData['skipped'][number]>(
      data.skipped,
      'skipped',
      EPOCH_POLICY.maxSkippedKeys,
    );
    for (const s of data.skipped) {
      checkBytes(s?.deviceId, 'skipped.deviceId', ID_LENGTH);
      checkInt(s.index, 'skipped.index', 0, EPOCH_POLICY.maxChainIndex);
      checkBytes(s.messageKey, 'skipped.messageKey', 32);
    }
    await loadSyncSha256();
    const prk = data.epochSecret ? hkdfExtractSha256Sync(data.rosterHash, data.epochSecret) : null;
    return new EpochState(structuredCloneData(data), prk);
  }

  /**
   * A plain-data snapshot for storage. It contains secret chain keys (and `S_e` unless
   * ephemeral): store it as carefully as private keys, and replace it after every operation,
   * or a restored older snapshot would accept replays of messages seen since.
   */
  serialize(): EpochStateData {
    return structuredCloneData({
      version: 1,
      convId: this.#convId,
      epoch: this.#epoch,
      rosterHash: this.#rosterHash,
      members: this.#members,
      epochSecret: this.#epochSecret,
      ephemeral: this.#ephemeral,
      ownDeviceId: this.#ownDeviceId,
      createdAtMs: this.#createdAtMs,
      messageCount: this.#messageCount,
      send: this.#send,
      receive: [...this.#receive.values()],
      skipped: [...this.#skipped.values()],
    });
  }

  /** The conversation id. */
  get convId(): Bytes {
    return Uint8Array.from(this.#convId);
  }
  /** The epoch number. */
  get epoch(): number {
    return this.#epoch;
  }
  /** SHA-256 of the epoch's signed roster. */
  get rosterHash(): Bytes {
    return Uint8Array.from(this.#rosterHash);
  }
  /** The roster members' user ids. */
  get members(): Bytes[] {
    return this.#members.map((m) => Uint8Array.from(m));
  }
  /** This device's id (the sender chain it owns). */
  get ownDeviceId(): Bytes {
    return Uint8Array.from(this.#ownDeviceId);
  }
  /** Whether `S_e` was discarded for forward secrecy. */
  get ephemeral(): boolean {
    return this.#ephemeral;
  }
  /** Messages sent and received in this epoch. */
  get messageCount(): number {
    return this.#messageCount;
  }
  /** When this device created the state. */
  get createdAtMs(): number {
    return this.#createdAtMs;
  }

  /** Whether `userId` is a member of this epoch's roster. */
  isMember(userId: Uint8Array): boolean {
    checkBytes(userId, 'userId', ID_LENGTH);
    return this.#memberSet.has(toHex(userId));
  }

  /**
   * `S_e`, for a key-backup entry or a `history` envelope. Throws for ephemeral epochs, whose
   * secret was deliberately deleted and must not be backed up.
   */
  exportEpochSecret(): Bytes {
    if (!this.#epochSecret)
      throw new InvalidInputError('an ephemeral epoch has no epoch secret to export');
    return Uint8Array.from(this.#epochSecret);
  }

  /** Whether the §3.7 time or volume limit says a new epoch SHOULD start (7 days or 1000 messages). */
  needsRotation(nowMs: number = Date.now()): boolean {
    checkInt(nowMs, 'nowMs', 0, MAX_U64);
    return (
      nowMs - this.#createdAtMs >= EPOCH_POLICY.rotateAfterMs ||
      this.#messageCount >= EPOCH_POLICY.rotateAfterMessages
    );
  }

  #takeSendKey(): { chainIndex: number; keys: Promise<MessageKeys> } {
    // Read and advance the chain in one synchronous step, so concurrent sends never share an
    // index. The index is burned even if the caller's encryption later fails. The AES key import
    // is returned as a promise so the caller can overlap it with signing.
    const send = this.#send;
    if (!send || send.nextIndex > EPOCH_POLICY.maxChainIndex) {
      throw new InvalidInputError('this epoch cannot send more messages; start a new epoch');
    }
    const { messageKey, nextChainKey } = chainStep(send.chainKey);
    const chainIndex = send.nextIndex;
    this.#send = { nextIndex: chainIndex + 1, chainKey: nextChainKey };
    send.chainKey.fill(0);
    this.#messageCount++;
    const keys = deriveMessageKeys(messageKey).finally(() => messageKey.fill(0));
    return { chainIndex, keys };
  }

  /**
   * Chain keys derived ahead of a receiving chain, indexed from `start` (never above the chain's
   * next index). Deriving is deterministic, so this is only a cache: it lets many messages of one
   * sender be decrypted concurrently without each re-deriving the chain from its committed point.
   * Bounded by the forward-jump limit.
   */
  #lookahead = new Map<
    string,
    { start: number; steps: { messageKey: Bytes; nextChainKey: Bytes }[] }
  >();

  /** `MK_index` and `CK_{index+1}` of a receiving chain (synchronous; extends the lookahead). */
  #stepAt(
    id: string,
    deviceId: Uint8Array,
    index: number,
  ): { messageKey: Bytes; nextChainKey: Bytes } {
    const chain = this.#receive.get(id);
    const next = chain?.nextIndex ?? 0;
    let la = this.#lookahead.get(id);
    if (!la || la.start > next) la = { start: next, steps: [] };
    if (la.start < next) {
      la.steps.splice(0, next - la.start);
      la.start = next;
    }
    while (la.start + la.steps.length <= index) {
      const last = la.steps[la.steps.length - 1];
      const chainKey = last
        ? last.nextChainKey
        : (chain?.chainKey ?? initialChainKey(this.#prk!, deviceId));
      la.steps.push(chainStep(chainKey));
    }
    this.#lookahead.set(id, la);
    return la.steps[index - la.start]!;
  }

  /**
   * Find the message key for (`deviceId`, `index`), run `open` with it, and commit the chain
   * only if `open` succeeds. Planning and committing are each synchronous, so they are atomic
   * with respect to other decryptions of this state; only `open` runs concurrently.
   */
  async #receiveWith<T>(
    deviceId: Uint8Array,
    index: number,
    open: (keys: MessageKeys) => Promise<T>,
  ): Promise<{ result: T; gap: ChainGap | null; late: boolean }> {
    const id = toHex(deviceId);
    const slot = skippedId(deviceId, index);
    if (this.#inFlight.has(slot)) throw new AuthenticationError();

    // Plan (synchronous; changes nothing but the derivation cache).
    let messageKey: Bytes;
    const cached = this.#skipped.get(slot);
    if (cached) {
      messageKey = Uint8Array.from(cached.messageKey); // reported missing earlier, arriving late
    } else {
      const chain = this.#receive.get(id);
      if (!chain && !this.#prk) throw new AuthenticationError(); // ephemeral: only roster devices
      const next = chain?.nextIndex ?? 0;
      // Below the chain and not cached: already used, or skipped so long ago it was evicted.
      if (index < next || index - next > EPOCH_POLICY.maxForwardJump)
        throw new AuthenticationError();
      messageKey = Uint8Array.from(this.#stepAt(id, deviceId, index).messageKey);
    }

    // Authenticate (asynchronous; other decryptions may commit meanwhile).
    this.#inFlight.add(slot);
    let result: T;
    try {
      result = await open(await deriveMessageKeys(messageKey));
    } finally {
      this.#inFlight.delete(slot);
      messageKey.fill(0);
    }

    // Commit (synchronous), against the state as it is now.
    this.#messageCount++;
    const nextNow = this.#receive.get(id)?.nextIndex ?? 0;
    if (index < nextNow) {
      // A cached skipped key, or another message moved the chain past this index meanwhile and
      // cached its key: using it consumes the cache entry.
      const entry = this.#skipped.get(slot);
      if (!entry) throw new AuthenticationError(); // evicted meanwhile: too old
      entry.messageKey.fill(0);
      this.#skipped.delete(slot);
      return { result, gap: null, late: true };
    }
    const step = this.#stepAt(id, deviceId, index); // cached by the plan above
    const la = this.#lookahead.get(id)!;
    for (let j = Math.max(nextNow, index - EPOCH_POLICY.maxSkippedKeys); j < index; j++) {
      const messageKey = Uint8Array.from(la.steps[j - la.start]!.messageKey);
      this.#skipped.set(skippedId(deviceId, j), {
        deviceId: Uint8Array.from(deviceId),
        index: j,
        messageKey,
      });
    }
    // Overwrite the old chain key: in ephemeral epochs this is what makes the step forward-secret.
    this.#receive.get(id)?.chainKey.fill(0);
    this.#receive.set(id, {
      deviceId: Uint8Array.from(deviceId),
      nextIndex: index + 1,
      chainKey: step.nextChainKey,
    });
    la.steps.splice(0, index + 1 - la.start);
    la.start = index + 1;
    // Bound the cache: Map iteration order is insertion order, so the oldest go first.
    for (const [key, s] of this.#skipped) {
      if (this.#skipped.size <= EPOCH_POLICY.maxSkippedKeys) break;
      s.messageKey.fill(0);
      this.#skipped.delete(key);
    }
    return { result, gap: index > nextNow ? { from: nextNow, to: index } : null, late: false };
  }
}

/** @internal For `message.ts` only; not exported from the package entry. */
export function epochInternals(): typeof internals {
  return internals;
}

function initialChainKey(prk: Uint8Array, deviceId: Uint8Array): Bytes {
  return hkdfExpandSha256Sync(prk, concatBytes(KDF_LABELS.senderChain, deviceId), 32);
}

function structuredCloneData(d: EpochStateData): EpochStateData {
  const b = (x: Uint8Array) => Uint8Array.from(x);
  return {
    version: 1,
    convId: b(d.convId),
    epoch: d.epoch,
    rosterHash: b(d.rosterHash),
    members: d.members.map(b),
    epochSecret: d.epochSecret ? b(d.epochSecret) : null,
    ephemeral: d.ephemeral,
    ownDeviceId: b(d.ownDeviceId),
    createdAtMs: d.createdAtMs,
    messageCount: d.messageCount,
    send: d.send ? { nextIndex: d.send.nextIndex, chainKey: b(d.send.chainKey) } : null,
    receive: d.receive.map((c) => ({
      deviceId: b(c.deviceId),
      nextIndex: c.nextIndex,
      chainKey: b(c.chainKey),
    })),
    skipped: d.skipped.map((s) => ({
      deviceId: b(s.deviceId),
      index: s.index,
      messageKey: b(s.messageKey),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Epoch secret payload (what `epoch` and `history` envelopes carry)

/** What an `epoch` or `history` envelope carries: `S_e` and the roster hash it belongs to. */
export interface EpochSecretPayload {
  epochSecret: Bytes;
  rosterHash: Bytes;
}

/** Encode as `v u8 (=1) | epoch_secret[32] | roster_hash[32]`. */
export function encodeEpochSecretPayload(p: EpochSecretPayload): Bytes {
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(p?.epochSecret, 32, 'epochSecret')
    .fixed(p.rosterHash, 32, 'rosterHash')
    .finish();
}

/** Strict decode of {@link encodeEpochSecretPayload}. */
export function decodeEpochSecretPayload(bytes: Uint8Array): EpochSecretPayload {
  const r = new Reader(bytes, 'epoch secret payload');
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError('epoch secret payload: unknown version');
  const p = { epochSecret: r.fixed(32, 'epochSecret'), rosterHash: r.fixed(32, 'rosterHash') };
  r.end();
  return p;
}
