/**
 * The synchronous (hash-wasm) HMAC and HKDF used by the message key schedule must be
 * byte-identical to WebCrypto's for any input, not only for the Wycheproof vectors: random keys
 * (shorter than, equal to and longer than the 64-byte HMAC block), salts, infos and lengths,
 * compared with WebCrypto's one-shot HKDF and HMAC.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { KDF_LABELS } from '../src/labels.ts';
import {
  hkdfExpandSha256,
  hkdfExpandSha256Sync,
  hkdfExtractSha256Sync,
  hkdfSha256,
  hmacSha256,
  hmacSha256Sync,
  hmacSha256SyncEach,
  loadSyncSha256,
} from '../src/primitives.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('synchronous HKDF and HMAC equal WebCrypto', () => {
  beforeAll(() => loadSyncSha256());

  it('HKDF-Extract then Expand (sync) equals WebCrypto HKDF for random inputs', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(1, 100),
        bytes(0, 100),
        bytes(0, 80),
        fc.integer({ min: 1, max: 300 }),
        async (ikm, salt, info, length) => {
          const expected = await hkdfSha256(ikm, salt, info, length);
          const okm = hkdfExpandSha256Sync(hkdfExtractSha256Sync(salt, ikm), info, length);
          expect(okm).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the message-key derivation (32-byte MK, msg-key label, 44 bytes) equals WebCrypto', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), async (mk) => {
        const sync = hkdfExpandSha256Sync(mk, KDF_LABELS.messageKey, 44);
        // HKDF-Expand with a WebCrypto HMAC key (the extract-free path WebCrypto allows).
        expect(sync).toEqual(await hkdfExpandSha256(mk, KDF_LABELS.messageKey, 44));
        expect(sync.length).toBe(44);
      }),
      { numRuns: 200 },
    );
  });

  it('HMAC-SHA-256 (sync, one or several messages per key) equals WebCrypto', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(1, 150),
        fc.array(bytes(0, 200), { minLength: 1, maxLength: 4 }),
        async (key, messages) => {
          const expected = await Promise.all(messages.map((m) => hmacSha256(key, m)));
          expect(hmacSha256SyncEach(key, messages)).toEqual(expected);
          expect(hmacSha256Sync(key, messages[0]!)).toEqual(expected[0]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
