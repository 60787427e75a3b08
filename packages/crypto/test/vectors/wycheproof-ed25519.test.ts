/**
 * Wycheproof Ed25519 vectors (shared/vectors/wycheproof/ed25519_test.json, Apache-2.0), through
 * the strict verifier (which adds S < L, canonical and non-small-order R and public key checks).
 */
import { describe, expect, it } from 'vitest';
import { ed25519Verify } from '../../src/primitives.ts';
import vectors from '../../../../../shared/vectors/wycheproof/ed25519_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof Ed25519', () => {
  it('verifies every valid signature and rejects every invalid one', async () => {
    let valid = 0;
    let invalid = 0;
    for (const group of vectors.testGroups) {
      const pk = hex(group.publicKey.pk);
      for (const t of group.tests) {
        const ok = await ed25519Verify(pk, hex(t.msg), hex(t.sig));
        expect(ok, `tcId ${t.tcId} (${t.comment})`).toBe(t.result === 'valid');
        if (t.result === 'valid') valid++;
        else invalid++;
      }
    }
    console.log(`ed25519: ${valid} valid passed, ${invalid} invalid rejected`);
    expect(valid + invalid).toBe(vectors.numberOfTests);
  });
});
