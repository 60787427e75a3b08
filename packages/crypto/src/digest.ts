/**
 * Incremental SHA-256, for hashing a stream (an encrypted file as it is uploaded or downloaded)
 * without holding it whole. WebCrypto's digest is one-shot, so this uses hash-wasm's
 * implementation, which runs alike in browsers and Node.
 *
 * @module
 */
import { createSHA256 } from 'hash-wasm';
import { checkBytes, fromHex, type Bytes } from './encoding.ts';
import { ctEqual } from './primitives.ts';

/** A running SHA-256: feed it chunks, then read the digest once. */
export interface Sha256Stream {
  update(chunk: Uint8Array): void;
  /** The digest of everything fed so far; the stream cannot be fed afterwards. */
  digest(): Bytes;
}

/** Starts an incremental SHA-256. */
export async function createSha256Stream(): Promise<Sha256Stream> {
  const hasher = await createSHA256();
  hasher.init();
  let done = false;
  return {
    update(chunk) {
      checkBytes(chunk, 'chunk');
      if (done) throw new TypeError('the digest was already read');
      hasher.update(chunk);
    },
    digest() {
      done = true;
      return fromHex(hasher.digest('hex'), 32);
    },
  };
}

/** Compares two SHA-256 digests in constant time. */
export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === 32 && b.length === 32 && ctEqual(a, b);
}
