/**
 * The message format (§3.6): sign, pad, then AES-256-GCM with the header as associated data.
 *
 * ```
 * MsgHeader = v u8 (=1) | suite u8 (=1) | conv_id[16] | epoch u32 | roster_hash[32] |
 *             sender_user[16] | sender_device[16] | chain_index u32 | client_msg_id[16] |
 *             sent_at_ms u64 | content_type u8                                   (115 bytes)
 * sig       = Ed25519(DSK, "securechat/v1/msg-sig" || enc(MsgHeader) || enc(Content))
 * inner     = u32 len(enc(Content)) | enc(Content) | sig[64] | zero padding to a multiple of 256
 * AAD       = "securechat/v1/msg" || enc(MsgHeader)
 * wire      = enc(MsgHeader) || AES-256-GCM(key_i, nonce_i, AAD, inner)
 * ```
 *
 * Why: the signature is inside the ciphertext, so the server never holds a transferable proof of
 * who said what; it covers the whole header, so a message moved to another conversation, epoch,
 * sender or index fails even for a member who knows the epoch keys. The header is also the AAD,
 * so the same moves fail the AEAD first for everyone else. Padding to 256-byte blocks hides exact
 * lengths (RFC 9420 §16.4 lists length as leaked metadata); the padding must be all zero and
 * shorter than a block, so each plaintext has exactly one padded form.
 *
 * Receiver checks, in the design's order (§3.6), each failing with the one
 * {@link AuthenticationError}:
 * 1. strict parse, known version and suite;
 * 2. `conv_id` is the conversation the message was fetched for;
 * 3. the epoch is known and `roster_hash` is that epoch's;
 * 4. the sender device is in the current USK-signed device list of a roster member;
 * 5. `chain_index` has not been used (replay);
 * 6. AES-GCM decrypts and the signature verifies (then padding and content parse strictly, and
 *    the content type matches the header);
 * 7. `client_msg_id` is not a duplicate.
 *
 * @module
 */
import {
  decodeContent,
  encodeContent,
  CONTENT_TYPES,
  type Content,
  type ContentType,
} from './content.ts';
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  concatBytes,
  MAX_U64,
  type Bytes,
} from './encoding.ts';
import { SUITE_V1 } from './envelope.ts';
import { epochInternals, EpochState, type ChainGap } from './epoch.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import {
  checkDeviceKeys,
  ID_LENGTH,
  PROTOCOL_VERSION,
  type DeviceDirectory,
  type DeviceKeys,
} from './identity.ts';
import { KDF_LABELS, SIG_LABELS } from './labels.ts';
import {
  aesGcmDecryptWithNonce,
  aesGcmEncryptWithNonce,
  ctEqual,
  ed25519Sign,
  ed25519Verify,
  GCM_TAG_LENGTH,
  randomBytes,
} from './primitives.ts';

/** Length of an encoded {@link MessageHeader}. */
export const MESSAGE_HEADER_LENGTH = 115;
/** Inner plaintexts are padded to a multiple of this many bytes. */
export const PADDING_BLOCK = 256;

/** The public message header: everything the server may see and route by. */
export interface MessageHeader {
  convId: Bytes;
  epoch: number;
  rosterHash: Bytes;
  senderUser: Bytes;
  senderDevice: Bytes;
  /** Per-sender sequence number inside the epoch. */
  chainIndex: number;
  /** Random id for idempotency; the target of edits, reactions and receipts. */
  clientMsgId: Bytes;
  sentAtMs: number;
  contentType: ContentType;
}

/** The result of a successful {@link decryptMessage}. */
export interface DecryptedMessage {
  header: MessageHeader;
  content: Content;
  /**
   * Indexes of this sender that have not arrived before this one, if this message jumped ahead.
   * Show a "message(s) missing" marker; they may still arrive later (then `late` is true).
   */
  gap: ChainGap | null;
  /** This message fills an earlier gap (it arrived after a higher index from the same sender). */
  late: boolean;
}

/** Canonical 115-byte encoding of a message header. */
export function encodeMessageHeader(h: MessageHeader): Bytes {
  if (!h || typeof h !== 'object') throw new InvalidInputError('header must be an object');
  const type = CONTENT_TYPES.indexOf(h.contentType);
  if (type < 0)
    throw new InvalidInputError(`contentType must be one of ${CONTENT_TYPES.join(', ')}`);
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .u8(SUITE_V1)
    .fixed(h.convId, ID_LENGTH, 'convId')
    .u32(h.epoch, 'epoch')
    .fixed(h.rosterHash, 32, 'rosterHash')
    .fixed(h.senderUser, ID_LENGTH, 'senderUser')
    .fixed(h.senderDevice, ID_LENGTH, 'senderDevice')
    .u32(h.chainIndex, 'chainIndex')
    .fixed(h.clientMsgId, ID_LENGTH, 'clientMsgId')
    .u64(h.sentAtMs, 'sentAtMs')
    .u8(type + 1)
    .finish();
}

function readMessageHeader(r: Reader): MessageHeader {
  if (r.u8('version') !== PROTOCOL_VERSION || r.u8('suite') !== SUITE_V1)
    throw new InvalidInputError('message: unknown version or suite');
  const h = {
    convId: r.fixed(ID_LENGTH, 'convId'),
    epoch: r.u32('epoch'),
    rosterHash: r.fixed(32, 'rosterHash'),
    senderUser: r.fixed(ID_LENGTH, 'senderUser'),
    senderDevice: r.fixed(ID_LENGTH, 'senderDevice'),
    chainIndex: r.u32('chainIndex'),
    clientMsgId: r.fixed(ID_LENGTH, 'clientMsgId'),
    sentAtMs: r.u64('sentAtMs'),
  };
  const contentType = CONTENT_TYPES[r.u8('contentType') - 1];
  if (!contentType) throw new InvalidInputError('message: unknown content type');
  return { ...h, contentType };
}

/**
 * Parse the public header of a wire message (to route it to a conversation and epoch) without
 * decrypting. Throws {@link AuthenticationError} if malformed. Nothing in it is authenticated
 * until {@link decryptMessage} succeeds.
 */
export function peekMessageHeader(wire: Uint8Array): MessageHeader {
  try {
    return readMessageHeader(new Reader(wire, 'message'));
  } catch {
    throw new AuthenticationError();
  }
}

function pad(body: Uint8Array): Bytes {
  const total = Math.ceil((body.length + 1) / PADDING_BLOCK) * PADDING_BLOCK;
  const out = new Uint8Array(total);
  out.set(body);
  return out;
}

/**
 * Encrypt and sign `content` as the next message of `sender` in the epoch `state`. The sender
 * must be this state's own device and a roster member. `clientMsgId` defaults to 16 random
 * bytes; `sentAtMs` to now. Returns the wire bytes to upload and the header (for local echo).
 */
export async function encryptMessage(params: {
  state: EpochState;
  sender: DeviceKeys;
  content: Content;
  clientMsgId?: Uint8Array;
  sentAtMs?: number;
}): Promise<{ wire: Bytes; header: MessageHeader }> {
  const { state, sender, content } = params ?? ({} as never);
  if (!(state instanceof EpochState)) throw new InvalidInputError('state must be an EpochState');
  checkDeviceKeys(sender, 'sender');
  if (!ctEqual(state.ownDeviceId, sender.deviceId))
    throw new InvalidInputError('sender must be the device that owns the epoch state');
  if (!state.isMember(sender.userId))
    throw new InvalidInputError('sender must be a member of the epoch roster');
  const clientMsgId = params.clientMsgId ?? randomBytes(ID_LENGTH);
  checkBytes(clientMsgId, 'clientMsgId', ID_LENGTH);
  const sentAtMs = params.sentAtMs ?? Date.now();
  checkInt(sentAtMs, 'sentAtMs', 0, MAX_U64);
  const contentBytes = encodeContent(content);

  const { chainIndex, keys: keysPromise } = epochInternals().takeSendKey(state);
  const header: MessageHeader = {
    convId: state.convId,
    epoch: state.epoch,
    rosterHash: state.rosterHash,
    senderUser: Uint8Array.from(sender.userId),
    senderDevice: Uint8Array.from(sender.deviceId),
    chainIndex,
    clientMsgId: Uint8Array.from(clientMsgId),
    sentAtMs,
    contentType: content.type,
  };
  const headerBytes = encodeMessageHeader(header);
  // Signing and the message-key import are independent: run them together.
  const [keys, signature] = await Promise.all([
    keysPromise,
    ed25519Sign(
      sender.signing.privateKey,
      concatBytes(SIG_LABELS.message, headerBytes, contentBytes),
    ),
  ]);
  const inner = pad(new Writer().vec32(contentBytes).raw(signature).finish());
  const ct = await aesGcmEncryptWithNonce(
    keys.key,
    keys.nonce,
    inner,
    concatBytes(KDF_LABELS.messageAad, headerBytes),
  );
  return { wire: concatBytes(headerBytes, ct), header };
}

/** Where {@link decryptMessage} finds the epoch named in a header. */
export type EpochLookup =
  EpochState | ((epoch: number) => EpochState | undefined | Promise<EpochState | undefined>);

/**
 * Decrypt and verify a wire message fetched for conversation `convId`, running every receiver
 * check of §3.6 in order (see the module comment). On success the sender's chain advances and
 * the index can never be accepted again. Every failure throws the same
 * {@link AuthenticationError}: log it as a decryption failure and never display the input.
 *
 * `directory` resolves the sender's DSK from verified device lists; `isDuplicate` reports whether
 * a client message id was already stored for this conversation (check 7; the caller owns storage).
 * A message that fails only check 7 did authenticate, so its chain index is consumed.
 * `epochs` may be a lookup so the header's epoch picks the state; a lookup that throws propagates.
 */
export async function decryptMessage(
  wire: Uint8Array,
  context: {
    convId: Uint8Array;
    epochs: EpochLookup;
    directory: DeviceDirectory;
    isDuplicate?: (clientMsgId: Bytes) => boolean | Promise<boolean>;
  },
): Promise<DecryptedMessage> {
  checkBytes(wire, 'wire');
  const { convId, epochs, directory, isDuplicate } = context ?? ({} as never);
  checkBytes(convId, 'convId', ID_LENGTH);
  if (!directory || typeof directory.deviceKey !== 'function')
    throw new InvalidInputError('directory must be a DeviceDirectory');
  if (!(epochs instanceof EpochState) && typeof epochs !== 'function')
    throw new InvalidInputError('epochs must be an EpochState or a lookup function');

  // 1. Strict parsing, known version and suite.
  const header = peekMessageHeader(wire);
  const headerBytes = wire.subarray(0, MESSAGE_HEADER_LENGTH);
  const ct = wire.subarray(MESSAGE_HEADER_LENGTH);
  if (
    ct.length < PADDING_BLOCK + GCM_TAG_LENGTH ||
    (ct.length - GCM_TAG_LENGTH) % PADDING_BLOCK !== 0
  ) {
    throw new AuthenticationError();
  }
  // 2. The conversation it was fetched for.
  if (!ctEqual(header.convId, convId)) throw new AuthenticationError();
  // 3. A known epoch with the matching roster hash.
  const state =
    epochs instanceof EpochState
      ? epochs.epoch === header.epoch
        ? epochs
        : undefined
      : await epochs(header.epoch);
  if (
    !(state instanceof EpochState) ||
    state.epoch !== header.epoch ||
    !ctEqual(state.convId, convId)
  )
    throw new AuthenticationError();
  if (!ctEqual(state.rosterHash, header.rosterHash)) throw new AuthenticationError();
  // 4. The sender device is listed for a roster member.
  if (!state.isMember(header.senderUser)) throw new AuthenticationError();
  const dsk = directory.deviceKey(header.senderUser, header.senderDevice);
  if (!dsk) throw new AuthenticationError();

  // 5 and 6. The epoch state refuses used indexes before deriving a key, runs the decryption
  // below, and commits the chain only if it succeeds.
  const aad = concatBytes(KDF_LABELS.messageAad, headerBytes);
  const received = await epochInternals().receive(
    state,
    header.senderDevice,
    header.chainIndex,
    async (keys) => {
      const inner = await aesGcmDecryptWithNonce(keys.key, keys.nonce, ct, aad);
      const { content, contentBytes, signature } = unpad(inner);
      if (
        !(await ed25519Verify(
          dsk,
          concatBytes(SIG_LABELS.message, headerBytes, contentBytes),
          signature,
        ))
      ) {
        throw new AuthenticationError();
      }
      if (content.type !== header.contentType) throw new AuthenticationError();
      return content;
    },
  );

  // 7. Not a duplicate client message id.
  if (isDuplicate && (await isDuplicate(Uint8Array.from(header.clientMsgId))))
    throw new AuthenticationError();
  return { header, content: received.result, gap: received.gap, late: received.late };
}

function unpad(inner: Uint8Array): { content: Content; contentBytes: Bytes; signature: Bytes } {
  try {
    const r = new Reader(inner, 'message');
    const contentBytes = r.vec32('content', inner.length);
    const signature = r.fixed(64, 'signature');
    const padding = r.rest();
    if (padding.length === 0 || padding.length > PADDING_BLOCK)
      throw new InvalidInputError('bad padding');
    let acc = 0;
    for (const b of padding) acc |= b;
    if (acc !== 0) throw new InvalidInputError('bad padding');
    return { content: decodeContent(contentBytes), contentBytes, signature };
  } catch {
    throw new AuthenticationError();
  }
}
