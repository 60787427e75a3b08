/**
 * Known-answer tests from published sources other than Wycheproof:
 * - RFC 9180 Appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode,
 *   sequence 0). The RFC publishes no X25519 vector with AES-256-GCM; the KAT runs the same code
 *   path with the AEAD switched to AES-128-GCM, which checks the KEM, the key schedule and the
 *   library wiring; AES-256-GCM itself is covered by Wycheproof.
 * - Argon2id v1.3 reference vector (P-H-C/phc-winner-argon2 src/test.c: t=2, m=65536 KiB, p=1,
 *   "password", "somesalt").
 * - The small-order Ed25519 encodings, recomputed with big-integer arithmetic.
 * (The libsignal safety-number vector is in fingerprint.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { argon2idRaw } from '../../src/backup.ts';
import { utf8Encode } from '../../src/encoding.ts';
import { hpkeOpenWith, hpkeSealWith } from '../../src/hpke.ts';
import { ED25519_SMALL_ORDER_ENCODINGS, importX25519PrivateKey } from '../../src/primitives.ts';
import { hex } from '../helpers.ts';

const A11 = {
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234',
  pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
  skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
  enc: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  aad: '436f756e742d30',
  ct: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
};

describe('RFC 9180 A.1.1 through the HPKE wrapper', () => {
  it('seals to the published enc and ciphertext', async () => {
    const sealed = await hpkeSealWith(
      'aes-128-gcm',
      hex(A11.pkRm),
      hex(A11.info),
      hex(A11.aad),
      hex(A11.pt),
      hex(A11.ikmE),
    );
    expect(sealed.enc).toEqual(hex(A11.enc));
    expect(sealed.ciphertext).toEqual(hex(A11.ct));
  });

  it('opens the published ciphertext with the recipient key', async () => {
    const recipient = await importX25519PrivateKey(hex(A11.skRm));
    expect(recipient.publicKey).toEqual(hex(A11.pkRm));
    const pt = await hpkeOpenWith(
      'aes-128-gcm',
      recipient,
      { enc: hex(A11.enc), ciphertext: hex(A11.ct) },
      hex(A11.info),
      hex(A11.aad),
    );
    expect(pt).toEqual(hex(A11.pt));
  });
});

describe('Argon2id reference vector', () => {
  it('matches phc-winner-argon2 (t=2, m=64 MiB, p=1)', async () => {
    const out = await argon2idRaw(utf8Encode('password'), utf8Encode('somesalt'), {
      memoryKiB: 65536,
      iterations: 2,
      parallelism: 1,
    });
    expect(out).toEqual(hex('09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7'));
  });
});

describe('Ed25519 small-order encodings', () => {
  // Edwards25519: -x^2 + y^2 = 1 + d x^2 y^2 over p = 2^255 - 19.
  const p = 2n ** 255n - 19n;
  const mod = (a: bigint) => ((a % p) + p) % p;
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    let x = mod(b);
    for (let k = e; k > 0n; k >>= 1n) {
      if (k & 1n) r = mod(r * x);
      x = mod(x * x);
    }
    return r;
  };
  const inv = (a: bigint) => pow(a, p - 2n);
  const d = mod(-121665n * inv(121666n));
  type Pt = [bigint, bigint];
  const add = ([x1, y1]: Pt, [x2, y2]: Pt): Pt => {
    const t = mod(d * x1 * x2 * y1 * y2);
    return [mod((x1 * y2 + y1 * x2) * inv(1n + t)), mod((y1 * y2 + x1 * x2) * inv(1n - t))];
  };
  const decode = (bytes: Uint8Array): Pt => {
    let y = 0n;
    for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]! & (i === 31 ? 0x7f : 0xff));
    y = mod(y); // reduces the non-canonical encodings of 0 and 1
    const u = mod(y * y - 1n);
    const v = mod(d * y * y + 1n);
    const x2 = mod(u * inv(v));
    let x = pow(x2, (p + 3n) / 8n);
    if (mod(x * x) !== x2) x = mod(x * pow(2n, (p - 1n) / 4n));
    expect(mod(x * x)).toBe(x2); // the encoding is a curve point
    return [x, y];
  };

  it('lists exactly points whose order divides 8, covering all 8 torsion points', async () => {
    const ys = new Set<bigint>();
    for (const enc of ED25519_SMALL_ORDER_ENCODINGS) {
      const P = decode(enc);
      let Q = P;
      for (let i = 0; i < 3; i++) Q = add(Q, Q);
      expect(Q).toEqual([0n, 1n]); // [8]P is the identity
      ys.add(P[1]);
    }
    // The torsion subgroup has y in {1, -1, 0, y8, -y8}; x's sign is ignored by the check.
    expect(ys.size).toBe(5);
  });
});
