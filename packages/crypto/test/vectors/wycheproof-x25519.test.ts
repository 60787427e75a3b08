/**
 * Wycheproof X25519 vectors (shared/vectors/wycheproof/x25519_test.json, Apache-2.0).
 *
 * Policy for "acceptable" cases: those whose public key is of low order (flags LowOrderPublic /
 * ZeroSharedSecret: the shared secret is all zero) must be rejected, because an all-zero secret
 * is known to everyone. Other acceptable cases (twist points, non-canonical encodings, edge-case
 * multiplications) compute the RFC 7748 result, and we require exactly that result.
 */
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/errors.ts';
import { importX25519PrivateKey, x25519 } from '../../src/primitives.ts';
import vectors from '../../../../../shared/vectors/wycheproof/x25519_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof X25519', () => {
  it('computes every valid case, rejects every low-order case', async () => {
    const counts = { valid: 0, acceptableComputed: 0, lowOrderRejected: 0 };
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        const { privateKey } = await importX25519PrivateKey(hex(t.private));
        const lowOrder =
          t.flags.includes('LowOrderPublic') ||
          t.flags.includes('ZeroSharedSecret') ||
          /^0+$/.test(t.shared);
        if (t.result === 'acceptable' && lowOrder) {
          const error = await x25519(privateKey, hex(t.public)).catch((e: unknown) => e);
          expect(error, `tcId ${t.tcId}`).toBeInstanceOf(AuthenticationError);
          counts.lowOrderRejected++;
        } else {
          expect(['valid', 'acceptable'], `tcId ${t.tcId}`).toContain(t.result);
          expect(await x25519(privateKey, hex(t.public)), `tcId ${t.tcId}`).toEqual(hex(t.shared));
          if (t.result === 'valid') counts.valid++;
          else counts.acceptableComputed++;
        }
      }
    }
    console.log(
      `x25519: ${counts.valid} valid passed, ${counts.acceptableComputed} acceptable computed, ${counts.lowOrderRejected} low-order (acceptable) rejected`,
    );
    expect(counts.valid).toBe(264);
    expect(counts.lowOrderRejected).toBeGreaterThan(0);
  });
});
