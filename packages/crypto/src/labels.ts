/**
 * Every domain-separation label of protocol v1, in one place.
 *
 * A label is prepended to the bytes a key signs, MACs or derives from, so that a value produced
 * for one purpose can never be accepted for another: a device-certificate signature cannot be
 * replayed as a device-list signature, a message key cannot be re-derived as a file key. All start
 * with `securechat/v1/`, so a future protocol version gets fresh labels and cannot be confused with
 * this one.
 *
 * The signature labels are prefix-free among themselves (no label is a prefix of another), which
 * a test checks: with a prefix relation, `label1 || data1` could equal `label2 || data2`.
 *
 * @module
 */

const enc = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

/** Ed25519 signature labels (USK, DSK). */
export const SIG_LABELS = {
  /** USK over a device certificate (§3.2). */
  deviceCert: enc('securechat/v1/device-cert'),
  /** USK over a device list (§3.2). */
  deviceList: enc('securechat/v1/device-list'),
  /** USK over a name given to a device after it was added. */
  deviceName: enc('securechat/v1/device-name'),
  /** DSK over a signed or one-time prekey. */
  prekey: enc('securechat/v1/prekey'),
  /** Sender DSK over an envelope header and payload (§3.4). Also the HPKE `info` prefix. */
  envelope: enc('securechat/v1/envelope'),
  /** Changing device's DSK over a roster (§3.5). */
  roster: enc('securechat/v1/roster'),
  /** Sender DSK over a message header and content (§3.6). */
  message: enc('securechat/v1/msg-sig'),
} as const;

/** KDF, AAD and hash labels. */
export const KDF_LABELS = {
  /** HKDF-Expand info prefix for a device's first chain key, followed by the device id (§3.5). */
  senderChain: enc('securechat/v1/sender-chain'),
  /** HKDF-Expand info for a message key and nonce (§3.5). */
  messageKey: enc('securechat/v1/msg-key'),
  /** AAD prefix of a message (§3.6). */
  messageAad: enc('securechat/v1/msg'),
  /** AAD prefix of a passphrase-wrapped secret-storage key (§3.9). */
  sskWrap: enc('securechat/v1/ssk-wrap'),
  /** HKDF info prefix of a secret-storage item key, followed by the secret's name (§3.9). */
  secret: enc('securechat/v1/secret/'),
  /** AAD prefix of a secret-storage item. */
  secretAad: enc('securechat/v1/secret-aad'),
  /** HPKE info prefix of a key-backup entry (§3.9). */
  keyBackup: enc('securechat/v1/key-backup'),
  /** Cobblestone context prefix of an attachment, followed by the file id (§3.8). */
  file: enc('securechat/v1/file'),
  /** Hash prefix of the recovery-key checksum. */
  recoveryKey: enc('securechat/v1/recovery-key'),
  /** Hash prefix of a USK fingerprint as stored in rosters. */
  uskFingerprint: enc('securechat/v1/usk-fpr'),
  /** HPKE info prefix binding a provisioning envelope to the link secret shown in the QR code. */
  link: enc('securechat/v1/link'),
} as const;
