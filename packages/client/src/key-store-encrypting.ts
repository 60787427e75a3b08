import {
  aesGcmOpen,
  aesGcmSeal,
  importAesGcmKey,
  randomBytes,
  utf8Encode,
} from '@securechat/crypto';
import type { KeyStore } from './key-store.ts';
import { decodeValue, encodeValue } from './sealed-value.ts';

/** Where the wrapper keeps its AES-GCM key in the inner store (one per store, shared by users). */
export const LOCAL_STORE_KEY_NAME = 'local-store-key';

/**
 * The local-state records that hold plaintext or live key material, by their second path segment
 * (`<userId>/<segment>/…`): decrypted messages, conversation titles, epoch chain keys, the cached
 * conversation list (names and last-message previews), and "messages missing" notes. Device keys
 * and prekeys are CryptoKeys, which IndexedDB already keeps non-extractable, so they pass through.
 */
export const SEALED_SEGMENTS: readonly string[] = [
  'message',
  'title',
  'epoch',
  'conversations',
  'missing',
  'secret',
];

const AAD_PREFIX = 'securechat/v1/local-store\u0000';

/** What the inner store holds for a sealed value: AES-GCM output (`nonce || ciphertext || tag`). */
interface SealedRecord {
  sealedV1: Uint8Array;
}

function isSealedRecord(value: unknown): value is SealedRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { sealedV1?: unknown }).sealedV1 instanceof Uint8Array
  );
}

/** Seals the records under {@link SEALED_SEGMENTS}. */
export function sealsByDefault(key: string): boolean {
  const segment = key.split('/')[1];
  return segment !== undefined && SEALED_SEGMENTS.includes(segment);
}

export interface EncryptingKeyStoreOptions {
  /** Which keys to seal; defaults to {@link sealsByDefault}. */
  seal?: (key: string) => boolean;
  /** Told about a stored value that failed to open (tampered, or sealed under a lost key). */
  onUnreadable?: (key: string) => void;
}

/**
 * A KeyStore that encrypts chosen records at rest under a device key: an AES-256-GCM key made on
 * this device, imported non-extractable and kept in the inner store (in a browser, IndexedDB
 * stores the CryptoKey itself, so script can use it but nobody can read its bytes out).
 *
 * What it protects: a copy of the browser profile's files (a backup, a stolen disk image, another
 * program reading the IndexedDB folder) shows no message text, titles or chain keys without the
 * browser's own key handling. What it does not protect: anything running inside this origin in
 * the browser (a compromised page, an extension with access to it) can use the key like the app
 * does. The record's key name is the AAD, so a sealed value moved to another record fails to open.
 *
 * Values written before sealing was in place are read as they are and sealed on their next write.
 */
export class EncryptingKeyStore implements KeyStore {
  readonly #inner: KeyStore;
  readonly #seal: (key: string) => boolean;
  readonly #onUnreadable: (key: string) => void;
  #key: Promise<CryptoKey> | null = null;

  constructor(inner: KeyStore, options: EncryptingKeyStoreOptions = {}) {
    this.#inner = inner;
    this.#seal = options.seal ?? sealsByDefault;
    this.#onUnreadable = options.onUnreadable ?? (() => {});
  }

  /** The device key, created on first use. */
  #deviceKey(): Promise<CryptoKey> {
    this.#key ??= (async () => {
      const stored = await this.#inner.get<CryptoKey>(LOCAL_STORE_KEY_NAME);
      if (stored) return stored;
      // packages/crypto imports raw keys only: make 32 random bytes, import them as a
      // non-extractable key, and wipe the bytes, so only the CryptoKey outlives this call.
      const raw = randomBytes(32);
      const key = await importAesGcmKey(raw);
      raw.fill(0);
      await this.#inner.set(LOCAL_STORE_KEY_NAME, key);
      return key;
    })();
    // A failed attempt (storage unavailable) may be retried by the next call.
    this.#key.catch(() => (this.#key = null));
    return this.#key;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const value = await this.#inner.get<unknown>(key);
    if (!isSealedRecord(value)) return value as T | undefined;
    try {
      const plain = await aesGcmOpen(await this.#deviceKey(), value.sealedV1, aad(key));
      return decodeValue(plain) as T;
    } catch {
      // Fail closed: the caller sees no record (a message is then shown as undecryptable),
      // never data that did not authenticate.
      this.#onUnreadable(key);
      return undefined;
    }
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.#inner.set(key, await this.#stored(key, value));
  }

  async setMany(entries: readonly (readonly [key: string, value: unknown])[]): Promise<void> {
    const stored = await Promise.all(
      entries.map(async ([key, value]) => [key, await this.#stored(key, value)] as const),
    );
    await this.#inner.setMany(stored);
  }

  /** What the inner store keeps for `value`: sealed, unless its key is one kept as it is. */
  async #stored(key: string, value: unknown): Promise<unknown> {
    if (!this.#seal(key) || key === LOCAL_STORE_KEY_NAME) return value;
    const sealed = await aesGcmSeal(await this.#deviceKey(), encodeValue(value), aad(key));
    return { sealedV1: sealed } satisfies SealedRecord;
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  keys(prefix: string): Promise<string[]> {
    return this.#inner.keys(prefix);
  }
}

function aad(key: string): Uint8Array {
  return utf8Encode(AAD_PREFIX + key, 'key');
}
