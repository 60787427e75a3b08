import { describe, expect, it } from 'vitest';
import { createSha256Stream, sameDigest } from '../src/digest.ts';
import { sha256 } from '../src/primitives.ts';

describe('createSha256Stream', () => {
  it('gives the one-shot digest whatever the chunking', async () => {
    const data = new Uint8Array(100_003).map((_, i) => (i * 31) & 0xff);
    const expected = await sha256(data);
    for (const size of [1, 7, 16_384, 100_003]) {
      const stream = await createSha256Stream();
      for (let i = 0; i < data.length; i += size) stream.update(data.subarray(i, i + size));
      expect(sameDigest(stream.digest(), expected)).toBe(true);
    }
  });

  it('matches the SHA-256 of the empty string', async () => {
    const stream = await createSha256Stream();
    const hex = [...stream.digest()].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('refuses more input after the digest was read', async () => {
    const stream = await createSha256Stream();
    stream.digest();
    expect(() => stream.update(new Uint8Array(1))).toThrow(/already read/);
  });
});
