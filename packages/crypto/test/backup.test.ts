/**
 * Backup and recovery (§3.9): recovery-key codec with typo detection, passphrase wrapping with
 * Argon2id (default parameters) and PBKDF2, parameter floors, secret storage and key-backup entries.
 */
import { describe, expect, it } from 'vitest';
import {
  ARGON2ID_DEFAULT,
  AuthenticationError,
  decodeRecoveryKey,
  encodeRecoveryKey,
  generateBackupKeyPair,
  generateRecoveryKey,
  importBackupKey,
  InvalidInputError,
  openKeyBackupEntry,
  openSecret,
  passphraseWrapParams,
  PBKDF2_DEFAULT,
  randomBytes,
  sealKeyBackupEntry,
  sealSecret,
  SECRET_NAMES,
  unwrapWithPassphrase,
  wrapWithPassphrase,
} from '../src/index.ts';
import { expectAuthFailure, flipBit } from './helpers.ts';

const userId = randomBytes(16);
const passphrase = 'correct horse battery staple';

describe('recovery key', () => {
  it('encodes 32 bytes as 56 grouped Crockford characters and decodes them back', async () => {
    const ssk = generateRecoveryKey();
    const text = await encodeRecoveryKey(ssk);
    expect(text).toMatch(/^([0-9A-HJKMNP-TV-Z]{4} ){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(await decodeRecoveryKey(text)).toEqual(ssk);
    // Lower case, no spaces, hyphens, and O/I/L for 0/1/1 are all accepted.
    const sloppy = text.toLowerCase().replace(/ /g, '-').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(await decodeRecoveryKey(sloppy)).toEqual(ssk);
  });

  it('reports typos specifically', async () => {
    const text = await encodeRecoveryKey(generateRecoveryKey());
    await expect(decodeRecoveryKey(text.slice(0, -1))).rejects.toThrow(
      'must have 56 characters (found 55)',
    );
    await expect(decodeRecoveryKey(`U${text.slice(1)}`)).rejects.toThrow(
      "invalid character 'U' at position 1",
    );
    // Change one character to another valid one: the checksum catches it.
    const compact = text.replace(/ /g, '');
    const i = 20;
    const swapped = compact.slice(0, i) + (compact[i] === 'A' ? 'B' : 'A') + compact.slice(i + 1);
    await expect(decodeRecoveryKey(swapped)).rejects.toThrow('checksum does not match');
    // Swap two adjacent different characters.
    let j = 0;
    while (compact[j] === compact[j + 1]) j++;
    const transposed = compact.slice(0, j) + compact[j + 1] + compact[j] + compact.slice(j + 2);
    await expect(decodeRecoveryKey(transposed)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('passphrase wrapping', () => {
  it('wraps with Argon2id (m = 64 MiB, t = 3, p = 4) by default and records the parameters', async () => {
    const ssk = generateRecoveryKey();
    const wrapped = await wrapWithPassphrase(ssk, passphrase, userId);
    expect(passphraseWrapParams(wrapped)).toEqual(ARGON2ID_DEFAULT);
    expect(await unwrapWithPassphrase(wrapped, passphrase, userId)).toEqual(ssk);
    await expectAuthFailure(unwrapWithPassphrase(wrapped, `${passphrase}!`, userId));
  });

  it('falls back to PBKDF2-SHA-256 with 600,000 iterations', async () => {
    const ssk = generateRecoveryKey();
    const wrapped = await wrapWithPassphrase(ssk, passphrase, userId, PBKDF2_DEFAULT);
    expect(passphraseWrapParams(wrapped)).toEqual({ kdf: 'pbkdf2-sha256', iterations: 600_000 });
    expect(await unwrapWithPassphrase(wrapped, passphrase, userId)).toEqual(ssk);
    // Bound to the user and to the stored parameters: both are in the AAD.
    await expectAuthFailure(unwrapWithPassphrase(wrapped, passphrase, randomBytes(16)));
    for (const bit of [8 * 20 + 1, 8 * 30, wrapped.length * 8 - 1]) {
      await expectAuthFailure(unwrapWithPassphrase(flipBit(wrapped, bit), passphrase, userId));
    }
  });

  it('refuses parameters below OWASP minimums and short passphrases, naming the problem', async () => {
    const ssk = generateRecoveryKey();
    await expect(
      wrapWithPassphrase(ssk, passphrase, userId, {
        kdf: 'argon2id',
        memoryKiB: 8192,
        iterations: 3,
        parallelism: 1,
      }),
    ).rejects.toThrow('argon2id memoryKiB must be an integer from 19456');
    await expect(
      wrapWithPassphrase(ssk, passphrase, userId, {
        kdf: 'argon2id',
        memoryKiB: 65536,
        iterations: 1,
        parallelism: 1,
      }),
    ).rejects.toThrow('argon2id iterations must be an integer from 2');
    await expect(
      wrapWithPassphrase(ssk, passphrase, userId, { kdf: 'pbkdf2-sha256', iterations: 100_000 }),
    ).rejects.toThrow('pbkdf2 iterations must be an integer from 600000');
    await expect(wrapWithPassphrase(ssk, 'short', userId, PBKDF2_DEFAULT)).rejects.toThrow(
      'at least 12 characters',
    );
    // A stored record whose parameters were lowered (or absurdly raised) is refused before any work.
    const wrapped = await wrapWithPassphrase(ssk, passphrase, userId, PBKDF2_DEFAULT);
    const lowered = Uint8Array.from(wrapped);
    new DataView(lowered.buffer).setUint32(2, 1000);
    await expect(unwrapWithPassphrase(lowered, passphrase, userId)).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });
});

describe('secret storage', () => {
  it('seals named secrets bound to user, name and version', async () => {
    const ssk = generateRecoveryKey();
    const secret = randomBytes(48);
    const record = await sealSecret(ssk, userId, SECRET_NAMES.userSigningKey, 3, secret);
    expect(await openSecret(ssk, userId, SECRET_NAMES.userSigningKey, record)).toEqual({
      version: 3,
      secret,
    });
    await expectAuthFailure(openSecret(ssk, userId, SECRET_NAMES.backupKey, record));
    await expectAuthFailure(openSecret(ssk, randomBytes(16), SECRET_NAMES.userSigningKey, record));
    await expectAuthFailure(
      openSecret(generateRecoveryKey(), userId, SECRET_NAMES.userSigningKey, record),
    );
    // The version is authenticated: rewriting it is detected.
    await expectAuthFailure(
      openSecret(ssk, userId, SECRET_NAMES.userSigningKey, flipBit(record, 8 * 4)),
    );
    await expect(sealSecret(ssk, userId, 'Bad Name', 1, secret)).rejects.toThrow('name must match');
  });
});

describe('key backup entries', () => {
  it('are sealed with the public key and opened only for their conversation and epoch', async () => {
    const { keyPair, pkcs8 } = await generateBackupKeyPair();
    expect(keyPair.privateKey.extractable).toBe(false);
    const restored = await importBackupKey(pkcs8);
    expect(restored.publicKey).toEqual(keyPair.publicKey);
    const convId = randomBytes(16);
    const entry = { epochSecret: randomBytes(32), rosterHash: randomBytes(32) };
    const sealed = await sealKeyBackupEntry(keyPair.publicKey, convId, 4, entry);
    expect(await openKeyBackupEntry(restored, convId, 4, sealed)).toEqual(entry);
    await expectAuthFailure(openKeyBackupEntry(restored, convId, 5, sealed));
    await expectAuthFailure(openKeyBackupEntry(restored, randomBytes(16), 4, sealed));
    await expectAuthFailure(
      openKeyBackupEntry((await generateBackupKeyPair()).keyPair, convId, 4, sealed),
    );
    const error = await openKeyBackupEntry(restored, convId, 4, flipBit(sealed, 3)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
  });
});
