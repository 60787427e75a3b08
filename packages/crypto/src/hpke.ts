/**
 * HPKE (RFC 9180) in base mode with one fixed suite: DHKEM(X25519, HKDF-SHA256) (kem 0x0020),
 * HKDF-SHA256 (kdf 0x0001) and AES-256-GCM (aead 0x0002), via `@hpke/core` on WebCrypto.
 *
 * Base mode is anonymous public-key encryption: anyone holding the recipient's public key can
 * seal, so sender authenticity must come from elsewhere. In this protocol it comes from a DSK
 * signature inside the plaintext (see `envelope.ts`). Each seal uses a fresh ephemeral key, so the
 * single-shot API never reuses an AEAD key or nonce.
 *
 * @module
 */
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import type { AeadInterface } from '@hpke/core';
import { checkBytes, toBytes, type Bytes } from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';

/** The RFC 9180 identifiers of the one suite used here. */
export const HPKE_SUITE = { kem: 0x0020, kdf: 0x0001, aead: 0x0002 } as const;

/** Length of the encapsulated key (`enc`) for DHKEM(X25519): 32 bytes. */
export const HPKE_ENC_LENGTH = 32;

/** A sealed HPKE message: the encapsulated ephemeral key and the AEAD ciphertext. */
export interface HpkeCiphertext {
  /** 32-byte encapsulated key. */
  enc: Bytes;
  /** AEAD ciphertext including the 16-byte tag. */
  ciphertext: Bytes;
}

const suites = new Map<string, CipherSuite>();
function suiteFor(aead: 'aes-256-gcm' | 'aes-128-gcm'): CipherSuite {
  let suite = suites.get(aead);
  if (!suite) {
    const a: AeadInterface = aead === 'aes-256-gcm' ? new Aes256Gcm() : new Aes128Gcm();
    suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: a });
    suites.set(aead, suite);
  }
  return suite;
}

/**
 * @internal Seal with an explicit AEAD and optional ephemeral key material, for the RFC 9180
 * known-answer test only (which is published for AES-128-GCM). Not exported from the package.
 */
export async function hpkeSealWith(
  aead: 'aes-256-gcm' | 'aes-128-gcm',
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ekm?: Uint8Array,
): Promise<HpkeCiphertext> {
  checkBytes(recipientPublicKey, 'recipient public key', 32);
  checkBytes(info, 'info');
  checkBytes(aad, 'aad');
  checkBytes(plaintext, 'plaintext');
  const suite = suiteFor(aead);
  let pk: CryptoKey;
  try {
    pk = await suite.kem.deserializePublicKey(toBytes(recipientPublicKey));
  } catch {
    throw new InvalidInputError('recipient public key must be a valid X25519 public key');
  }
  let sealed;
  try {
    sealed = await suite.seal(
      { recipientPublicKey: pk, info: toBytes(info), ...(ekm ? { ekm: toBytes(ekm) } : {}) },
      toBytes(plaintext),
      toBytes(aad),
    );
  } catch {
    // Encapsulation fails only for a low-order recipient key (all-zero DH output).
    throw new InvalidInputError('recipient public key must not be a low-order point');
  }
  return { enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) };
}

/** @internal Open with an explicit AEAD (known-answer test only). */
export async function hpkeOpenWith(
  aead: 'aes-256-gcm' | 'aes-128-gcm',
  recipient: { privateKey: CryptoKey; publicKey: Uint8Array },
  sealed: HpkeCiphertext,
  info: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  if (
    !(recipient?.privateKey instanceof CryptoKey) ||
    recipient.privateKey.algorithm.name !== 'X25519'
  ) {
    throw new InvalidInputError('recipient private key must be an X25519 CryptoKey');
  }
  checkBytes(recipient.publicKey, 'recipient public key', 32);
  checkBytes(sealed?.enc, 'enc');
  checkBytes(sealed.ciphertext, 'ciphertext');
  checkBytes(info, 'info');
  checkBytes(aad, 'aad');
  const suite = suiteFor(aead);
  try {
    // Passing the key pair (not just the private key) lets a non-extractable private key work:
    // otherwise the library exports it to recompute the public key for the KEM context.
    const publicKey = await suite.kem.deserializePublicKey(toBytes(recipient.publicKey));
    const pt = await suite.open(
      {
        recipientKey: { privateKey: recipient.privateKey, publicKey },
        enc: toBytes(sealed.enc),
        info: toBytes(info),
      },
      toBytes(sealed.ciphertext),
      toBytes(aad),
    );
    return new Uint8Array(pt);
  } catch {
    throw new AuthenticationError();
  }
}

/**
 * Seal `plaintext` to `recipientPublicKey` (raw X25519) with `info` bound into the key schedule
 * and `aad` authenticated. Throws {@link InvalidInputError} for a malformed or low-order key.
 */
export function hpkeSeal(
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Promise<HpkeCiphertext> {
  return hpkeSealWith('aes-256-gcm', recipientPublicKey, info, aad, plaintext);
}

/**
 * Open an {@link hpkeSeal} ciphertext with the recipient's key pair. Any failure (wrong key,
 * info, aad, tampered enc or ciphertext) throws {@link AuthenticationError}.
 */
export function hpkeOpen(
  recipient: { privateKey: CryptoKey; publicKey: Uint8Array },
  sealed: HpkeCiphertext,
  info: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  return hpkeOpenWith('aes-256-gcm', recipient, sealed, info, aad);
}
