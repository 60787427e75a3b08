/**
 * Wycheproof HKDF-SHA-256 vectors (shared/vectors/wycheproof/hkdf_sha256_test.json, Apache-2.0),
 * through the native one-shot HKDF and through the HMAC-based extract-then-expand the key schedule
 * uses (both the WebCrypto-HMAC and the synchronous hash-wasm versions), so all three
 * implementations are checked against the same answers.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.ts';
import {
  hkdfExpandSha256,
  hkdfExpandSha256Sync,
  hkdfExtractSha256,
  hkdfExtractSha256Sync,
  hkdfSha256,
  loadSyncSha256,
} from '../../src/primitives.ts';
import vectors from '../../../../../shared/vectors/wycheproof/hkdf_sha256_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof HKDF-SHA-256', () => {
  it('derives every valid output and rejects every invalid size', async () => {
    await loadSyncSha256();
    let valid = 0;
    let invalid = 0;
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        const [ikm, salt, info] = [hex(t.ikm), hex(t.salt), hex(t.info)];
        if (t.result === 'valid') {
          expect(await hkdfSha256(ikm, salt, info, t.size), `tcId ${t.tcId}`).toEqual(hex(t.okm));
          const prk = await hkdfExtractSha256(salt, ikm);
          expect(await hkdfExpandSha256(prk, info, t.size), `tcId ${t.tcId}`).toEqual(hex(t.okm));
          const prkSync = hkdfExtractSha256Sync(salt, ikm);
          expect(prkSync).toEqual(prk);
          expect(hkdfExpandSha256Sync(prkSync, info, t.size), `tcId ${t.tcId} (sync)`).toEqual(
            hex(t.okm),
          );
          valid++;
        } else {
          await expect(
            hkdfSha256(ikm, salt, info, t.size),
            `tcId ${t.tcId}`,
          ).rejects.toBeInstanceOf(InvalidInputError);
          const prk = await hkdfExtractSha256(salt, ikm);
          await expect(
            hkdfExpandSha256(prk, info, t.size),
            `tcId ${t.tcId}`,
          ).rejects.toBeInstanceOf(InvalidInputError);
          expect(() => hkdfExpandSha256Sync(prk, info, t.size), `tcId ${t.tcId} (sync)`).toThrow(
            InvalidInputError,
          );
          invalid++;
        }
      }
    }
    console.log(`hkdf-sha256: ${valid} valid passed, ${invalid} invalid rejected`);
    expect(valid + invalid).toBe(vectors.numberOfTests);
  });
});
