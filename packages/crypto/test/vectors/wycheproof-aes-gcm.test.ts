/**
 * Wycheproof AES-GCM vectors (shared/vectors/wycheproof/aes_gcm_test.json, Apache-2.0, from
 * C2SP/wycheproof `testvectors_v1/aes_gcm_test.json`), 96-bit-IV groups, run through the same
 * internal GCM functions the message and secret-storage code uses.
 *
 * AES-192 groups are excluded: this package never uses AES-192 and Chromium's WebCrypto does not
 * implement it, so those cases would test the engine, not this code, and could not run in both
 * environments. AES-128 groups run (the internal function accepts 16-byte keys for this purpose).
 */
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/errors.ts';
import { aesGcmDecryptWithNonce, aesGcmEncryptWithNonce } from '../../src/primitives.ts';
import { concatBytes } from '../../src/encoding.ts';
import vectors from '../../../../../shared/vectors/wycheproof/aes_gcm_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof AES-GCM (96-bit IV)', () => {
  it('accepts every valid case and rejects every invalid one', async () => {
    let valid = 0;
    let invalid = 0;
    let excluded = 0;
    for (const group of vectors.testGroups) {
      if (group.ivSize !== 96) continue;
      if (group.keySize === 192) {
        excluded += group.tests.length;
        continue;
      }
      expect([128, 256]).toContain(group.keySize);
      for (const t of group.tests) {
        const key = hex(t.key);
        const iv = hex(t.iv);
        const aad = hex(t.aad);
        const sealed = concatBytes(hex(t.ct), hex(t.tag));
        if (t.result === 'valid') {
          const ct = await aesGcmEncryptWithNonce(key, iv, hex(t.msg), aad);
          expect(ct, `tcId ${t.tcId}`).toEqual(sealed);
          expect(await aesGcmDecryptWithNonce(key, iv, sealed, aad), `tcId ${t.tcId}`).toEqual(
            hex(t.msg),
          );
          valid++;
        } else {
          const error = await aesGcmDecryptWithNonce(key, iv, sealed, aad).catch((e: unknown) => e);
          expect(error, `tcId ${t.tcId}`).toBeInstanceOf(AuthenticationError);
          invalid++;
        }
      }
    }
    console.log(
      `aes-gcm: ${valid} valid passed, ${invalid} invalid rejected (${excluded} AES-192 cases excluded)`,
    );
    // The file's 96-bit-IV AES-128 and AES-256 groups hold 79 valid and 54 invalid cases.
    expect([valid, invalid]).toEqual([79, 54]);
  });
});
