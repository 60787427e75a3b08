/**
 * Pairwise key transport (§3.4): how one device hands an epoch secret, a provisioning bundle or a
 * history secret to exactly one other device.
 *
 * ```
 * inner      = payload || Ed25519(DSK_sender, "securechat/v1/envelope" || enc(EnvHeader) || payload)
 * (enc, ct)  = HPKE.SealBase(pkR, info = "securechat/v1/envelope" || enc(EnvHeader) [|| binding],
 *                            aad = enc(EnvHeader), pt = inner)
 * wire       = enc(EnvHeader) || enc[32] || u32 len(ct) || ct
 * ```
 *
 * Why each piece:
 * - The signature is inside the encryption, so the server never holds a transferable proof that
 *   the sender said something.
 * - The signed header names the recipient user, device and prekey, so a recipient cannot
 *   re-encrypt ("surreptitiously forward") a signed payload to a third party as if it came
 *   from the sender to them.
 * - The header is both HPKE `info` and AAD, so moving the ciphertext under another header fails
 *   before the signature is even checked.
 * - For provisioning (new-device linking) a `binding` (the link secret from the QR code) is
 *   appended to `info`, tying the transfer to the QR code that was scanned.
 *
 * EnvHeader layout (92 bytes): v u8 (=1) | suite u8 (=1) | kind u8 (1 epoch, 2 provision,
 * 3 history) | conv_id[16] | epoch u32 | sender_user[16] | sender_device[16] | recipient_user[16]
 * | recipient_device[16] | recipient_prekey_id u32 | prekey_kind u8 (1 spk, 2 opk, 3 link).
 *
 * @module
 */
import { Reader, Writer, checkBytes, checkInt, concatBytes, type Bytes } from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { hpkeOpen, hpkeSeal, HPKE_ENC_LENGTH } from './hpke.ts';
import { checkDeviceKeys, ID_LENGTH, PROTOCOL_VERSION, type DeviceKeys } from './identity.ts';
import { KDF_LABELS, SIG_LABELS } from './labels.ts';
import { ctEqual, ed25519Sign, ed25519Verify } from './primitives.ts';

/** Suite byte of protocol v1 (the §3.1 suite). Bound into headers so it cannot be downgraded. */
export const SUITE_V1 = 1;

/** What an envelope carries. */
export type EnvelopeKind = 'epoch' | 'provision' | 'history';
/** Which recipient key an envelope is sealed to: SPK, OPK, or the one-off key of a link QR code. */
export type RecipientKeyKind = 'spk' | 'opk' | 'link';

const KINDS: EnvelopeKind[] = ['epoch', 'provision', 'history'];
const KEY_KINDS: RecipientKeyKind[] = ['spk', 'opk', 'link'];

/** Length of an encoded {@link EnvelopeHeader}. */
export const ENVELOPE_HEADER_LENGTH = 92;
/** Largest payload accepted (a provisioning bundle with many epoch secrets fits easily). */
export const MAX_ENVELOPE_PAYLOAD = 1 << 20;

/** The envelope header: who sends what to which device and key. Signed, and used as HPKE info and AAD. */
export interface EnvelopeHeader {
  kind: EnvelopeKind;
  convId: Bytes;
  epoch: number;
  senderUser: Bytes;
  senderDevice: Bytes;
  recipientUser: Bytes;
  recipientDevice: Bytes;
  recipientPrekeyId: number;
  prekeyKind: RecipientKeyKind;
}

/** The recipient key an envelope is sealed to. For `spk`/`opk`, take it from a prekey that passed `verifyPrekey`. */
export interface EnvelopeRecipient {
  userId: Uint8Array;
  deviceId: Uint8Array;
  prekeyId: number;
  prekeyKind: RecipientKeyKind;
  /** Raw X25519 public key. */
  publicKey: Uint8Array;
}

/**
 * Finds the sender's DSK public key after HPKE decryption but before the signature check. It sees
 * a payload that is confidential and bound to the recipient key but not yet signature-checked;
 * only provisioning needs this (the new device learns its USK from the payload itself).
 */
export type SenderKeyResolver = (
  header: EnvelopeHeader,
  payload: Bytes,
) => Promise<Uint8Array | undefined>;

/** Canonical 92-byte encoding of an envelope header. */
export function encodeEnvelopeHeader(h: EnvelopeHeader): Bytes {
  if (!h || typeof h !== 'object') throw new InvalidInputError('header must be an object');
  const kind = KINDS.indexOf(h.kind);
  if (kind < 0) throw new InvalidInputError("kind must be 'epoch', 'provision' or 'history'");
  const keyKind = KEY_KINDS.indexOf(h.prekeyKind);
  if (keyKind < 0) throw new InvalidInputError("prekeyKind must be 'spk', 'opk' or 'link'");
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .u8(SUITE_V1)
    .u8(kind + 1)
    .fixed(h.convId, ID_LENGTH, 'convId')
    .u32(h.epoch, 'epoch')
    .fixed(h.senderUser, ID_LENGTH, 'senderUser')
    .fixed(h.senderDevice, ID_LENGTH, 'senderDevice')
    .fixed(h.recipientUser, ID_LENGTH, 'recipientUser')
    .fixed(h.recipientDevice, ID_LENGTH, 'recipientDevice')
    .u32(h.recipientPrekeyId, 'recipientPrekeyId')
    .u8(keyKind + 1)
    .finish();
}

function readEnvelopeHeader(r: Reader): EnvelopeHeader {
  if (r.u8('version') !== PROTOCOL_VERSION || r.u8('suite') !== SUITE_V1)
    throw new InvalidInputError('envelope: unknown version');
  const kind = KINDS[r.u8('kind') - 1];
  if (!kind) throw new InvalidInputError('envelope: unknown kind');
  const convId = r.fixed(ID_LENGTH, 'convId');
  const epoch = r.u32('epoch');
  const senderUser = r.fixed(ID_LENGTH, 'senderUser');
  const senderDevice = r.fixed(ID_LENGTH, 'senderDevice');
  const recipientUser = r.fixed(ID_LENGTH, 'recipientUser');
  const recipientDevice = r.fixed(ID_LENGTH, 'recipientDevice');
  const recipientPrekeyId = r.u32('recipientPrekeyId');
  const prekeyKind = KEY_KINDS[r.u8('prekeyKind') - 1];
  if (!prekeyKind) throw new InvalidInputError('envelope: unknown prekey kind');
  return {
    kind,
    convId,
    epoch,
    senderUser,
    senderDevice,
    recipientUser,
    recipientDevice,
    recipientPrekeyId,
    prekeyKind,
  };
}

/** Strictly decode a 92-byte envelope header (throws {@link InvalidInputError}). */
export function decodeEnvelopeHeader(bytes: Uint8Array): EnvelopeHeader {
  const r = new Reader(bytes, 'envelope header');
  const header = readEnvelopeHeader(r);
  r.end();
  return header;
}

/**
 * Parse only the (unauthenticated) header of an envelope, to find which prekey opens it and whose
 * DSK must verify it. Throws {@link AuthenticationError} if the envelope is malformed. Trust
 * nothing in it until {@link openEnvelope} succeeds.
 */
export function peekEnvelopeHeader(wire: Uint8Array): EnvelopeHeader {
  try {
    return parseWire(wire).header;
  } catch {
    throw new AuthenticationError();
  }
}

function parseWire(wire: Uint8Array): {
  header: EnvelopeHeader;
  headerBytes: Bytes;
  enc: Bytes;
  ciphertext: Bytes;
} {
  const r = new Reader(wire, 'envelope');
  const header = readEnvelopeHeader(r);
  const headerBytes = Uint8Array.from(wire.subarray(0, ENVELOPE_HEADER_LENGTH));
  const enc = r.fixed(HPKE_ENC_LENGTH, 'enc');
  const ciphertext = r.vec32('ciphertext', MAX_ENVELOPE_PAYLOAD + 64 + 16);
  r.end();
  return { header, headerBytes, enc, ciphertext };
}

function hpkeInfo(headerBytes: Uint8Array, binding: Uint8Array | undefined): Bytes {
  // The optional binding is length-prefixed so "header || binding" stays unambiguous.
  const parts = [SIG_LABELS.envelope, headerBytes];
  if (binding) parts.push(KDF_LABELS.link, new Writer().vec32(binding, 'binding').finish());
  return concatBytes(...parts);
}

/**
 * Seal `payload` from `sender` to one recipient device. `kind`, `convId` and `epoch` describe
 * what is being sent (for provisioning, use a zero conv id and epoch 0). `binding` is the link
 * secret for provisioning envelopes (required for, and only for, `prekeyKind: 'link'`).
 */
export async function sealEnvelope(
  sender: DeviceKeys,
  params: {
    kind: EnvelopeKind;
    convId: Uint8Array;
    epoch: number;
    recipient: EnvelopeRecipient;
    payload: Uint8Array;
    binding?: Uint8Array;
  },
): Promise<Bytes> {
  checkDeviceKeys(sender, 'sender');
  const { recipient, payload, binding } = params ?? {};
  if (!recipient || typeof recipient !== 'object')
    throw new InvalidInputError('recipient must be an object');
  checkBytes(recipient.userId, 'recipient.userId', ID_LENGTH);
  checkBytes(recipient.deviceId, 'recipient.deviceId', ID_LENGTH);
  checkBytes(recipient.publicKey, 'recipient.publicKey', 32);
  checkBytes(payload, 'payload');
  if (payload.length > MAX_ENVELOPE_PAYLOAD)
    throw new InvalidInputError(`payload must be at most ${MAX_ENVELOPE_PAYLOAD} bytes`);
  checkBinding(recipient.prekeyKind, binding);
  const header: EnvelopeHeader = {
    kind: params.kind,
    convId: Uint8Array.from(params.convId ?? []),
    epoch: params.epoch,
    senderUser: sender.userId,
    senderDevice: sender.deviceId,
    recipientUser: Uint8Array.from(recipient.userId),
    recipientDevice: Uint8Array.from(recipient.deviceId),
    recipientPrekeyId: recipient.prekeyId,
    prekeyKind: recipient.prekeyKind,
  };
  const headerBytes = encodeEnvelopeHeader(header);
  const signature = await ed25519Sign(
    sender.signing.privateKey,
    concatBytes(SIG_LABELS.envelope, headerBytes, payload),
  );
  const sealed = await hpkeSeal(
    recipient.publicKey,
    hpkeInfo(headerBytes, binding),
    headerBytes,
    concatBytes(payload, signature),
  );
  return new Writer()
    .raw(headerBytes)
    .fixed(sealed.enc, HPKE_ENC_LENGTH, 'enc')
    .vec32(sealed.ciphertext)
    .finish();
}

function checkBinding(kind: RecipientKeyKind, binding: Uint8Array | undefined): void {
  if (kind === 'link') {
    checkBytes(binding, 'binding');
    if (binding.length < 16) throw new InvalidInputError('binding must be at least 16 bytes');
  } else if (binding !== undefined) {
    throw new InvalidInputError("binding is only used with prekeyKind 'link'");
  }
}

/**
 * Open an envelope addressed to `recipient` with the private key of the prekey it names, and
 * verify the sender's signature with `senderSigningPublicKey` (the sender device's DSK from its
 * verified device list; look the sender up with {@link peekEnvelopeHeader}), or with the key a
 * {@link SenderKeyResolver} returns.
 *
 * Checks, each failing with {@link AuthenticationError}: strict parse and known version/suite;
 * the header names this user, device, prekey id and kind; HPKE opens (header as info and AAD);
 * the DSK signature over header and payload verifies. Returns the now-authenticated header and
 * payload. The caller must still check the header's kind, conversation and epoch are what it
 * expects, and delete an OPK's private key after first use.
 */
export async function openEnvelope(
  recipient: DeviceKeys,
  prekey: {
    prekeyId: number;
    kind: RecipientKeyKind;
    privateKey: CryptoKey;
    publicKey: Uint8Array;
  },
  wire: Uint8Array,
  senderSigningPublicKey: Uint8Array | SenderKeyResolver,
  binding?: Uint8Array,
): Promise<{ header: EnvelopeHeader; payload: Bytes }> {
  checkDeviceKeys(recipient, 'recipient');
  if (!prekey || !(prekey.privateKey instanceof CryptoKey))
    throw new InvalidInputError('prekey must hold an X25519 private CryptoKey');
  checkInt(prekey.prekeyId, 'prekey.prekeyId', 0, 0xffffffff);
  checkBytes(prekey.publicKey, 'prekey.publicKey', 32);
  checkBytes(wire, 'envelope');
  if (typeof senderSigningPublicKey !== 'function')
    checkBytes(senderSigningPublicKey, 'senderSigningPublicKey', 32);
  checkBinding(prekey.kind, binding);

  let parsed: ReturnType<typeof parseWire>;
  try {
    parsed = parseWire(wire);
  } catch {
    throw new AuthenticationError();
  }
  const { header, headerBytes } = parsed;
  if (
    !ctEqual(header.recipientUser, recipient.userId) ||
    !ctEqual(header.recipientDevice, recipient.deviceId) ||
    header.recipientPrekeyId !== prekey.prekeyId ||
    header.prekeyKind !== prekey.kind
  ) {
    throw new AuthenticationError();
  }
  const inner = await hpkeOpen(
    { privateKey: prekey.privateKey, publicKey: prekey.publicKey },
    { enc: parsed.enc, ciphertext: parsed.ciphertext },
    hpkeInfo(headerBytes, binding),
    headerBytes,
  );
  if (inner.length < 64) throw new AuthenticationError();
  const payload = inner.slice(0, inner.length - 64);
  const signature = inner.subarray(inner.length - 64);
  let dsk: Uint8Array | undefined;
  if (typeof senderSigningPublicKey === 'function') {
    try {
      dsk = await senderSigningPublicKey(header, payload);
    } catch {
      throw new AuthenticationError();
    }
  } else {
    dsk = senderSigningPublicKey;
  }
  if (
    !dsk ||
    !(await ed25519Verify(dsk, concatBytes(SIG_LABELS.envelope, headerBytes, payload), signature))
  ) {
    throw new AuthenticationError();
  }
  return { header, payload };
}
