/**
 * `@securechat/crypto`: the end-to-end encryption core of SecureChat, protocol v1.
 *
 * A library with no network and no storage of its own: the client package calls it and persists
 * what it returns. Isomorphic (WebCrypto via `globalThis.crypto`, `@hpke/core`, `hash-wasm`).
 * See README.md for the threat model, per-module guarantees, limits and byte layouts.
 *
 * Every function checks its inputs and throws {@link InvalidInputError} naming what is wrong; every
 * failed decryption or verification throws the one {@link AuthenticationError}.
 *
 * @module
 */
export { AuthenticationError, InvalidInputError } from './errors.ts';

export {
  compareBytes,
  concatBytes,
  fromBase64Url,
  fromHex,
  MAX_U64,
  Reader,
  toBase64Url,
  toHex,
  utf8Decode,
  utf8Encode,
  Writer,
  type Bytes,
} from './encoding.ts';

export { KDF_LABELS, SIG_LABELS } from './labels.ts';

export {
  aesGcmOpen,
  aesGcmSeal,
  checkEd25519PublicKey,
  ctEqual,
  ed25519Sign,
  ed25519Verify,
  generateEd25519KeyPair,
  generateX25519KeyPair,
  hkdfExpandSha256,
  hkdfExpandSha512,
  hkdfExtractSha256,
  hkdfSha256,
  hkdfSha512,
  hmacSha256,
  hmacSha256Verify,
  importAesGcmKey,
  importEd25519PublicKey,
  isSmallOrderEd25519,
  pbkdf2Sha256,
  randomBytes,
  sha256,
  sha512,
  x25519,
  type KeyPair,
} from './primitives.ts';

export { HPKE_ENC_LENGTH, HPKE_SUITE, hpkeOpen, hpkeSeal, type HpkeCiphertext } from './hpke.ts';

export {
  createDeviceDirectory,
  createDeviceKeys,
  createDeviceList,
  decodeDeviceCert,
  decodeDeviceList,
  deviceListHash,
  encodeDeviceCert,
  encodeDeviceCertBody,
  encodeDeviceList,
  encodeDeviceListBody,
  generateUserSigningKey,
  ID_LENGTH,
  importUserSigningKey,
  MAX_DEVICES,
  MAX_DISPLAY_NAME_BYTES,
  nextDeviceList,
  openDeviceName,
  PROTOCOL_VERSION,
  signDeviceCert,
  signDeviceName,
  signDeviceList,
  trustOnFirstUse,
  uskFingerprint,
  verifyDeviceCert,
  verifyDeviceListUpdate,
  type DeviceCert,
  type DeviceCertBody,
  type DeviceDirectory,
  type DeviceKeys,
  type DeviceList,
  type DeviceListBody,
  type DeviceNameBody,
  type PinnedIdentity,
  type UserSigningKey,
  type VerifiedDevice,
  type VerifiedDeviceList,
} from './identity.ts';

export {
  createOneTimePrekeys,
  createSignedPrekey,
  decodePublicPrekey,
  encodePrekeyBody,
  encodePublicPrekey,
  PREKEY_POLICY,
  prekeyMaintenance,
  publicPrekey,
  verifyPrekey,
  type PrekeyActions,
  type PrekeyInventory,
  type PrekeyKind,
  type PrivatePrekey,
  type PublicPrekey,
} from './prekeys.ts';

export {
  decodeEnvelopeHeader,
  encodeEnvelopeHeader,
  ENVELOPE_HEADER_LENGTH,
  openEnvelope,
  peekEnvelopeHeader,
  sealEnvelope,
  SUITE_V1,
  type EnvelopeHeader,
  type EnvelopeKind,
  type EnvelopeRecipient,
  type RecipientKeyKind,
  type SenderKeyResolver,
} from './envelope.ts';

export {
  decodeEpochSecretPayload,
  encodeEpochSecretPayload,
  EPOCH_POLICY,
  EpochState,
  type ChainGap,
  type EpochSecretPayload,
  type EpochStateData,
} from './epoch.ts';

export {
  buildCommit,
  buildRoster,
  decodeSignedRoster,
  encodeRoster,
  encodeSignedRoster,
  MAX_MEMBERS,
  openCommit,
  ROSTER_FLAGS,
  rosterHash,
  signRoster,
  verifyRoster,
  type Commit,
  type CommitRecipient,
  type Roster,
  type RosterMember,
  type SignedRoster,
} from './roster.ts';

export {
  CONTENT_TYPES,
  decodeContent,
  encodeContent,
  MAX_CONTENT_BYTES,
  type Content,
  type ContentType,
  type ControlContent,
  type FileRef,
} from './content.ts';

export {
  decryptMessage,
  encodeMessageHeader,
  encryptMessage,
  MESSAGE_HEADER_LENGTH,
  PADDING_BLOCK,
  peekMessageHeader,
  type DecryptedMessage,
  type EpochLookup,
  type MessageHeader,
} from './message.ts';

export {
  CHUNK_SIZE,
  CHUNKED_HEADER_LENGTH,
  createOpenStream,
  createSealStream,
  fileContext,
  openChunked,
  sealChunked,
} from './chunked.ts';

export { createSha256Stream, sameDigest, type Sha256Stream } from './digest.ts';

export {
  attachmentCiphertextLength,
  attachmentOpenStream,
  attachmentSealStream,
  decryptAttachment,
  encryptAttachment,
} from './attachment.ts';

export {
  ARGON2ID_DEFAULT,
  ARGON2ID_MINIMUM,
  decodeRecoveryKey,
  encodeRecoveryKey,
  generateBackupKeyPair,
  generateRecoveryKey,
  importBackupKey,
  MIN_PASSPHRASE_LENGTH,
  openKeyBackupEntry,
  openSecret,
  passphraseWrapParams,
  PBKDF2_DEFAULT,
  RECOVERY_KEY_CHARS,
  SECRET_NAMES,
  sealKeyBackupEntry,
  sealSecret,
  unwrapWithPassphrase,
  wrapWithPassphrase,
  type BackedUpEpoch,
  type PassphraseKdfParams,
} from './backup.ts';

export {
  combineFingerprints,
  FINGERPRINT_ITERATIONS,
  fingerprintHash,
  safetyNumber,
  safetyNumberQrPayload,
  USK_KEY_TYPE,
  verifySafetyNumberQr,
} from './fingerprint.ts';

export {
  createLinkRequest,
  decodeLinkRequest,
  decodeProvisioningBundle,
  encodeLinkRequest,
  encodeProvisioningBundle,
  openProvisioning,
  sealProvisioning,
  type LinkRequest,
  type ProvisioningBundle,
} from './provisioning.ts';
