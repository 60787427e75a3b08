/**
 * Safety numbers (§3.10): libsignal's published vector (used only to check the algorithm), the
 * symmetric result from both sides, and the QR comparison.
 */
import { describe, expect, it } from 'vitest';
import {
  combineFingerprints,
  fingerprintHash,
  generateUserSigningKey,
  randomBytes,
  safetyNumber,
  safetyNumberQrPayload,
  utf8Encode,
  verifySafetyNumberQr,
} from '../src/index.ts';
import { hex } from './helpers.ts';

describe('safety numbers', () => {
  it("reproduce libsignal's fingerprint_test_v1 vector", async () => {
    // signalapp/libsignal rust/protocol/src/fingerprint.rs, test fingerprint_test_v1.
    const alice = hex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
    const bob = hex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
    const a = await fingerprintHash(alice, utf8Encode('+14152222222'), 5200);
    const b = await fingerprintHash(bob, utf8Encode('+14153333333'), 5200);
    expect(combineFingerprints(a, b)).toBe(
      '300354477692869396892869876765458257569162576843440918079131',
    );
    expect(combineFingerprints(b, a)).toBe(
      '300354477692869396892869876765458257569162576843440918079131',
    );
    // The scannable form of the same test holds the first 32 bytes of each side.
    expect(a.subarray(0, 32)).toEqual(
      hex('1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df'),
    );
    expect(b.subarray(0, 32)).toEqual(
      hex('d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d'),
    );
  });

  it('are identical from both sides and change with either key', async () => {
    const [u1, u2, u3] = [randomBytes(16), randomBytes(16), randomBytes(16)];
    const [k1, k2, k3] = await Promise.all([
      generateUserSigningKey(),
      generateUserSigningKey(),
      generateUserSigningKey(),
    ]);
    const n12 = await safetyNumber(k1.usk.publicKey, u1, k2.usk.publicKey, u2);
    expect(n12).toMatch(/^\d{60}$/);
    expect(await safetyNumber(k2.usk.publicKey, u2, k1.usk.publicKey, u1)).toBe(n12);
    expect(await safetyNumber(k1.usk.publicKey, u1, k3.usk.publicKey, u2)).not.toBe(n12);
    expect(await safetyNumber(k1.usk.publicKey, u1, k2.usk.publicKey, u3)).not.toBe(n12);
  });

  it('QR payloads match only the other side’s payload for the same keys', async () => {
    const [u1, u2] = [randomBytes(16), randomBytes(16)];
    const [k1, k2, km] = await Promise.all([
      generateUserSigningKey(),
      generateUserSigningKey(),
      generateUserSigningKey(),
    ]);
    const mine = await safetyNumberQrPayload(k1.usk.publicKey, u1, k2.usk.publicKey, u2);
    const theirs = await safetyNumberQrPayload(k2.usk.publicKey, u2, k1.usk.publicKey, u1);
    expect(mine).toHaveLength(65);
    expect(verifySafetyNumberQr(mine, theirs)).toBe(true);
    expect(verifySafetyNumberQr(mine, mine)).toBe(false);
    const mitm = await safetyNumberQrPayload(k2.usk.publicKey, u2, km.usk.publicKey, u1);
    expect(verifySafetyNumberQr(mine, mitm)).toBe(false);
    expect(() => verifySafetyNumberQr(mine, theirs.subarray(1))).toThrow();
  });
});
