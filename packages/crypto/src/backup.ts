/**
 * Key backup and recovery (§3.9): the secret-storage key (SSK) and its human-readable recovery
 * key, optional passphrase wrapping (Argon2id, PBKDF2 fallback), secret storage items, and
 * message-key backup entries.
 *
 * The layers:
 * - The SSK is 32 random bytes. The user keeps it as a recovery key (below) or behind a passphrase.
 * - Secret storage: each named secret (the USK, the backup private key, verification state) is
 *   encrypted under a key derived from the SSK for that name, with the user id, name and version
 *   as AAD, so the server cannot swap one stored secret for another.
 * - Key backup: any device holding only the backup *public* key can add an epoch secret (HPKE);
 *   reading the backup needs the private key, which lives in secret storage.
 *
 * What this does not protect: nothing limits guessing. A passphrase-wrapped SSK stored on a
 * compromised server can be attacked offline at the cost of one Argon2id evaluation per guess, so
 * only strong passphrases (about 60 bits or more, e.g. 5+ diceware words, checked with a strength
 * estimator in the UI) are safe; the generated recovery key (256 bits) is the default. Backed-up
 * history has no forward secrecy against compromise of the SSK.
 *
 * @module
 */
import { argon2id } from 'hash-wasm';
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  checkString,
  concatBytes,
  utf8Encode,
  type Bytes,
} from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { hpkeOpen, hpkeSeal, HPKE_ENC_LENGTH } from './hpke.ts';
import { ID_LENGTH, PROTOCOL_VERSION } from './identity.ts';
import { KDF_LABELS } from './labels.ts';
import {
  aesGcmOpen,
  aesGcmSeal,
  exportPkcs8,
  generateX25519KeyPair,
  hkdfSha256,
  importX25519Pkcs8,
  pbkdf2Sha256,
  randomBytes,
  sha256,
  type KeyPair,
} from './primitives.ts';

// ---------------------------------------------------------------------------------------------
// Recovery key

/** Crockford base32 alphabet: no I, L, O or U, so easily confused characters cannot be mistyped into another valid one. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters of a recovery key, without separators: 35 bytes (32-byte SSK + 3-byte checksum) × 8 / 5. */
export const RECOVERY_KEY_CHARS = 56;
const CHECKSUM_BYTES = 3;

/** Generate a new secret-storage key: 32 bytes from the CSPRNG. */
export function generateRecoveryKey(): Bytes {
  return randomBytes(32);
}

async function recoveryChecksum(ssk: Uint8Array): Promise<Bytes> {
  return (await sha256(concatBytes(KDF_LABELS.recoveryKey, ssk))).slice(0, CHECKSUM_BYTES);
}

/**
 * Encode an SSK for the user to write down: 56 Crockford base32 characters in 14 groups of four
 * (`ABCD EFGH …`). The last 24 bits are a checksum (SHA-256 of a label and the key), so a typo is
 * caught with probability 1 - 2^-24 instead of silently producing a wrong key.
 */
export async function encodeRecoveryKey(ssk: Uint8Array): Promise<string> {
  checkBytes(ssk, 'recovery key', 32);
  const bytes = concatBytes(ssk, await recoveryChecksum(ssk));
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(' ');
}

/**
 * Parse a recovery key as typed by a user. Case, spaces and hyphens are ignored, and O/I/L are
 * read as 0/1/1. Unlike decryption failures, errors here are specific (wrong length, the bad
 * character and its position, checksum mismatch), because this is the user's own input and the
 * user needs to find the typo.
 */
export async function decodeRecoveryKey(text: string): Promise<Bytes> {
  checkString(text, 'recovery key');
  const cleaned = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (cleaned.length !== RECOVERY_KEY_CHARS) {
    throw new InvalidInputError(
      `recovery key must have ${RECOVERY_KEY_CHARS} characters (found ${cleaned.length})`,
    );
  }
  const bytes = new Uint8Array(32 + CHECKSUM_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < cleaned.length; i++) {
    const v = CROCKFORD.indexOf(cleaned[i]!);
    if (v < 0)
      throw new InvalidInputError(
        `recovery key has an invalid character '${cleaned[i]}' at position ${i + 1}`,
      );
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[o++] = (acc >> bits) & 0xff;
    }
  }
  const ssk = bytes.slice(0, 32);
  const checksum = await recoveryChecksum(ssk);
  if (checksum.some((b, i) => b !== bytes[32 + i])) {
    throw new InvalidInputError('recovery key checksum does not match: check it for a typo');
  }
  return ssk;
}

// ---------------------------------------------------------------------------------------------
// Passphrase wrapping

/** Key-derivation parameters stored with a passphrase-wrapped key, so they can be raised later. */
export type PassphraseKdfParams =
  | { kdf: 'argon2id'; memoryKiB: number; iterations: number; parallelism: number }
  | { kdf: 'pbkdf2-sha256'; iterations: number };

/** RFC 9106's second recommended Argon2id option: 64 MiB, 3 passes, 4 lanes. The default. */
export const ARGON2ID_DEFAULT = {
  kdf: 'argon2id',
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 4,
} as const;
/** OWASP's minimum Argon2id setting (19 MiB, 2 passes, 1 lane); weaker parameters are refused. */
export const ARGON2ID_MINIMUM = { memoryKiB: 19456, iterations: 2, parallelism: 1 } as const;
/** Fallback when WebAssembly is unavailable: PBKDF2-HMAC-SHA-256 (OWASP: at least 600,000 iterations). */
export const PBKDF2_DEFAULT = { kdf: 'pbkdf2-sha256', iterations: 600_000 } as const;
/** Upper bounds on stored parameters, so a tampered record cannot make unwrapping exhaust memory or time. */
const ARGON2ID_MAXIMUM = { memoryKiB: 1 << 20, iterations: 64, parallelism: 16 };
const PBKDF2_MAXIMUM_ITERATIONS = 10_000_000;
/** Shortest passphrase accepted; the UI must still require ~60 bits with a strength estimator. */
export const MIN_PASSPHRASE_LENGTH = 12;

function checkKdfParams(p: PassphraseKdfParams): void {
  if (!p || typeof p !== 'object') throw new InvalidInputError('params must be an object');
  if (p.kdf === 'argon2id') {
    checkInt(
      p.memoryKiB,
      'argon2id memoryKiB',
      ARGON2ID_MINIMUM.memoryKiB,
      ARGON2ID_MAXIMUM.memoryKiB,
    );
    checkInt(
      p.iterations,
      'argon2id iterations',
      ARGON2ID_MINIMUM.iterations,
      ARGON2ID_MAXIMUM.iterations,
    );
    checkInt(
      p.parallelism,
      'argon2id parallelism',
      ARGON2ID_MINIMUM.parallelism,
      ARGON2ID_MAXIMUM.parallelism,
    );
    if (p.memoryKiB < 8 * p.parallelism)
      throw new InvalidInputError('argon2id memoryKiB must be at least 8 × parallelism');
  } else if (p.kdf === 'pbkdf2-sha256') {
    checkInt(
      p.iterations,
      'pbkdf2 iterations',
      PBKDF2_DEFAULT.iterations,
      PBKDF2_MAXIMUM_ITERATIONS,
    );
  } else {
    throw new InvalidInputError("params.kdf must be 'argon2id' or 'pbkdf2-sha256'");
  }
}

/**
 * @internal Raw Argon2id (v1.3) via hash-wasm, for the wrap below and its known-answer test.
 * Enforces only that parameters are not below OWASP's minimum.
 */
export async function argon2idRaw(
  password: Uint8Array,
  salt: Uint8Array,
  params: { memoryKiB: number; iterations: number; parallelism: number },
  length = 32,
): Promise<Bytes> {
  checkKdfParams({ kdf: 'argon2id', ...params });
  checkBytes(password, 'password');
  checkBytes(salt, 'salt');
  if (salt.length < 8) throw new InvalidInputError('salt must be at least 8 bytes');
  const out = await argon2id({
    password,
    salt,
    iterations: params.iterations,
    parallelism: params.parallelism,
    memorySize: params.memoryKiB,
    hashLength: length,
    outputType: 'binary',
  });
  return Uint8Array.from(out);
}

/** The passphrase as KDF input: Unicode NFC, so the same passphrase typed on two systems derives the same key. */
function passphraseBytes(passphrase: string): Bytes {
  checkString(passphrase, 'passphrase');
  const normalized = passphrase.normalize('NFC');
  if ([...normalized].length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(
      `passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
  return utf8Encode(normalized, 'passphrase');
}

async function deriveKek(
  passphrase: string,
  salt: Uint8Array,
  params: PassphraseKdfParams,
): Promise<Bytes> {
  const password = passphraseBytes(passphrase);
  try {
    return params.kdf === 'argon2id'
      ? await argon2idRaw(password, salt, params)
      : await pbkdf2Sha256(password, salt, params.iterations, 32);
  } finally {
    password.fill(0);
  }
}

function encodeWrapHeader(params: PassphraseKdfParams, salt: Uint8Array): Bytes {
  const w = new Writer().u8(PROTOCOL_VERSION);
  if (params.kdf === 'argon2id')
    w.u8(1).u32(params.memoryKiB).u32(params.iterations).u32(params.parallelism);
  else w.u8(2).u32(params.iterations);
  return w.fixed(salt, 16, 'salt').finish();
}

/**
 * Wrap a 32-byte secret (the SSK) under a passphrase:
 * `KEK = Argon2id(NFC(passphrase), salt16, m, t, p)` (or PBKDF2-SHA-256), then
 * `AES-256-GCM(KEK, random96, aad = "securechat/v1/ssk-wrap" || user_id || header, secret)`.
 * Defaults to {@link ARGON2ID_DEFAULT}; pass {@link PBKDF2_DEFAULT} where WebAssembly is missing.
 * Parameters below OWASP's minimums are refused. Layout: v u8 (=1) | kdf u8 (1 argon2id:
 * m u32, t u32, p u32 · 2 pbkdf2: iterations u32) | salt[16] | nonce[12] | ciphertext+tag[48].
 */
export async function wrapWithPassphrase(
  secret: Uint8Array,
  passphrase: string,
  userId: Uint8Array,
  params: PassphraseKdfParams = ARGON2ID_DEFAULT,
): Promise<Bytes> {
  checkBytes(secret, 'secret', 32);
  checkBytes(userId, 'userId', ID_LENGTH);
  checkKdfParams(params);
  const salt = randomBytes(16);
  const header = encodeWrapHeader(params, salt);
  const kek = await deriveKek(passphrase, salt, params);
  try {
    const sealed = await aesGcmSeal(kek, secret, concatBytes(KDF_LABELS.sskWrap, userId, header));
    return concatBytes(header, sealed);
  } finally {
    kek.fill(0);
  }
}

/** The parameters a wrapped key was made with (to decide whether to re-wrap with stronger ones). */
export function passphraseWrapParams(wrapped: Uint8Array): PassphraseKdfParams {
  return parseWrap(wrapped).params;
}

function parseWrap(wrapped: Uint8Array): {
  params: PassphraseKdfParams;
  salt: Bytes;
  header: Bytes;
  sealed: Bytes;
} {
  const r = new Reader(wrapped, 'wrapped key');
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError('wrapped key: unknown version');
  const kdf = r.u8('kdf');
  let params: PassphraseKdfParams;
  if (kdf === 1)
    params = {
      kdf: 'argon2id',
      memoryKiB: r.u32('memoryKiB'),
      iterations: r.u32('iterations'),
      parallelism: r.u32('parallelism'),
    };
  else if (kdf === 2) params = { kdf: 'pbkdf2-sha256', iterations: r.u32('iterations') };
  else throw new InvalidInputError('wrapped key: unknown kdf');
  const salt = r.fixed(16, 'salt');
  const headerLength = wrapped.length - r.remaining;
  const sealed = r.fixed(12 + 32 + 16, 'sealed key');
  r.end();
  checkKdfParams(params);
  return { params, salt, header: wrapped.slice(0, headerLength), sealed };
}

/**
 * Unwrap a key made by {@link wrapWithPassphrase}. Out-of-range stored parameters throw
 * {@link InvalidInputError} before any work; a wrong passphrase, wrong user id or tampered record
 * throws {@link AuthenticationError}.
 */
export async function unwrapWithPassphrase(
  wrapped: Uint8Array,
  passphrase: string,
  userId: Uint8Array,
): Promise<Bytes> {
  checkBytes(userId, 'userId', ID_LENGTH);
  const { params, salt, header, sealed } = parseWrap(wrapped);
  const kek = await deriveKek(passphrase, salt, params);
  try {
    return await aesGcmOpen(kek, sealed, concatBytes(KDF_LABELS.sskWrap, userId, header));
  } finally {
    kek.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Secret storage

/** Names of the secrets the client stores (any name matching `[a-z0-9._-]{1,64}` is allowed). */
export const SECRET_NAMES = {
  /** The USK private key, PKCS#8. */
  userSigningKey: 'usk',
  /** The key-backup X25519 private key, PKCS#8. */
  backupKey: 'backup-key',
  /** Contact verification state, synced between the user's devices. */
  verification: 'verification',
} as const;

function checkSecretName(name: string): void {
  checkString(name, 'name');
  if (!/^[a-z0-9._-]{1,64}$/.test(name))
    throw new InvalidInputError('name must match [a-z0-9._-]{1,64}');
}

async function secretKey(ssk: Uint8Array, name: string): Promise<Bytes> {
  return hkdfSha256(ssk, new Uint8Array(0), concatBytes(KDF_LABELS.secret, utf8Encode(name)), 32);
}

function secretAad(userId: Uint8Array, name: string, version: number): Bytes {
  return new Writer()
    .raw(KDF_LABELS.secretAad)
    .fixed(userId, ID_LENGTH, 'userId')
    .str16(name, 'name')
    .u32(version, 'version')
    .finish();
}

/**
 * Encrypt a named secret under the SSK:
 * `AES-256-GCM(HKDF(SSK, "securechat/v1/secret/" || name), random96, aad = label || user_id || name || version, secret)`.
 * `version` lets a newer value be told apart from an older one the server might replay: store
 * the highest version seen. Layout: v u8 (=1) | version u32 | nonce[12] | ciphertext+tag.
 */
export async function sealSecret(
  ssk: Uint8Array,
  userId: Uint8Array,
  name: string,
  version: number,
  secret: Uint8Array,
): Promise<Bytes> {
  checkBytes(ssk, 'ssk', 32);
  checkBytes(userId, 'userId', ID_LENGTH);
  checkSecretName(name);
  checkInt(version, 'version', 0, 0xffffffff);
  checkBytes(secret, 'secret');
  if (secret.length > 65536) throw new InvalidInputError('secret must be at most 65536 bytes');
  const key = await secretKey(ssk, name);
  try {
    const sealed = await aesGcmSeal(key, secret, secretAad(userId, name, version));
    return new Writer().u8(PROTOCOL_VERSION).u32(version).raw(sealed).finish();
  } finally {
    key.fill(0);
  }
}

/**
 * Decrypt a secret stored with {@link sealSecret} under `name`. Returns the secret and its
 * version. A wrong SSK, user id or name, or a tampered record, throws {@link AuthenticationError}.
 */
export async function openSecret(
  ssk: Uint8Array,
  userId: Uint8Array,
  name: string,
  record: Uint8Array,
): Promise<{ version: number; secret: Bytes }> {
  checkBytes(ssk, 'ssk', 32);
  checkBytes(userId, 'userId', ID_LENGTH);
  checkSecretName(name);
  checkBytes(record, 'record');
  let version: number;
  let sealed: Bytes;
  try {
    const r = new Reader(record, 'secret');
    if (r.u8('version') !== PROTOCOL_VERSION) throw new InvalidInputError('unknown version');
    version = r.u32('secret version');
    sealed = r.rest();
  } catch {
    throw new AuthenticationError();
  }
  const key = await secretKey(ssk, name);
  try {
    return { version, secret: await aesGcmOpen(key, sealed, secretAad(userId, name, version)) };
  } finally {
    key.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Message-key backup

/**
 * Create the backup key pair (X25519). Publish `keyPair.publicKey` so every device can add
 * entries; seal `pkcs8` into secret storage under {@link SECRET_NAMES.backupKey} and drop it.
 */
export async function generateBackupKeyPair(): Promise<{ keyPair: KeyPair; pkcs8: Bytes }> {
  const extractable = await generateX25519KeyPair(true);
  const pkcs8 = await exportPkcs8(extractable.privateKey);
  return { keyPair: await importX25519Pkcs8(pkcs8, false), pkcs8 };
}

/** Re-import the backup private key from secret storage (non-extractable). */
export function importBackupKey(pkcs8: Uint8Array): Promise<KeyPair> {
  return importX25519Pkcs8(pkcs8, false);
}

function backupInfo(convId: Uint8Array, epoch: number): Bytes {
  return new Writer()
    .raw(KDF_LABELS.keyBackup)
    .fixed(convId, ID_LENGTH, 'convId')
    .u32(epoch, 'epoch')
    .finish();
}

/** An epoch's secret and roster hash: what one key-backup entry holds. */
export interface BackedUpEpoch {
  epochSecret: Bytes;
  rosterHash: Bytes;
}

/**
 * Seal one epoch's secret for the key backup:
 * `HPKE.Seal(pk_backup, info = "securechat/v1/key-backup" || conv_id || epoch, pt = S_e || roster_hash)`.
 * Needs only the public key. Layout: enc[32] | ciphertext+tag[80]. Never back up ephemeral epochs.
 */
export async function sealKeyBackupEntry(
  backupPublicKey: Uint8Array,
  convId: Uint8Array,
  epoch: number,
  entry: BackedUpEpoch,
): Promise<Bytes> {
  checkBytes(backupPublicKey, 'backupPublicKey', 32);
  checkBytes(convId, 'convId', ID_LENGTH);
  checkInt(epoch, 'epoch', 0, 0xffffffff);
  checkBytes(entry?.epochSecret, 'epochSecret', 32);
  checkBytes(entry.rosterHash, 'rosterHash', 32);
  const sealed = await hpkeSeal(
    backupPublicKey,
    backupInfo(convId, epoch),
    new Uint8Array(0),
    concatBytes(entry.epochSecret, entry.rosterHash),
  );
  return concatBytes(sealed.enc, sealed.ciphertext);
}

/**
 * Open a key-backup entry for `convId` and `epoch` with the backup key pair. An entry stored
 * under another conversation or epoch, or tampered with, throws {@link AuthenticationError}.
 */
export async function openKeyBackupEntry(
  backupKey: KeyPair,
  convId: Uint8Array,
  epoch: number,
  entry: Uint8Array,
): Promise<BackedUpEpoch> {
  checkBytes(convId, 'convId', ID_LENGTH);
  checkInt(epoch, 'epoch', 0, 0xffffffff);
  checkBytes(entry, 'entry');
  if (entry.length !== HPKE_ENC_LENGTH + 64 + 16) throw new AuthenticationError();
  const pt = await hpkeOpen(
    backupKey,
    { enc: entry.slice(0, HPKE_ENC_LENGTH), ciphertext: entry.slice(HPKE_ENC_LENGTH) },
    backupInfo(convId, epoch),
    new Uint8Array(0),
  );
  return { epochSecret: pt.slice(0, 32), rosterHash: pt.slice(32, 64) };
}
