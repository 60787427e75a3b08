/**
 * Wycheproof PBKDF2-HMAC-SHA-256 vectors (shared/vectors/wycheproof/pbkdf2_hmacsha256_test.json,
 * Apache-2.0). Every case runs at its full iteration count (the largest is 80,000).
 */
import { describe, expect, it } from 'vitest';
import { pbkdf2Sha256 } from '../../src/primitives.ts';
import vectors from '../../../../../shared/vectors/wycheproof/pbkdf2_hmacsha256_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof PBKDF2-HMAC-SHA-256', () => {
  it('derives every valid output', async () => {
    let valid = 0;
    let invalid = 0;
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        const derived = pbkdf2Sha256(hex(t.password), hex(t.salt), t.iterationCount, t.dkLen);
        if (t.result === 'valid') {
          expect(await derived, `tcId ${t.tcId}`).toEqual(hex(t.dk));
          valid++;
        } else {
          await expect(derived, `tcId ${t.tcId}`).rejects.toThrow();
          invalid++;
        }
      }
    }
    console.log(`pbkdf2-sha256: ${valid} valid passed, ${invalid} invalid rejected`);
    expect(valid + invalid).toBe(vectors.numberOfTests);
  });
});
