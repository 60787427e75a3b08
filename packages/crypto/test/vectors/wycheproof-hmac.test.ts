/**
 * Wycheproof HMAC-SHA-256 vectors (shared/vectors/wycheproof/hmac_sha256_test.json, Apache-2.0),
 * including truncated 128-bit tags, through the WebCrypto MAC and constant-time verifier, and
 * through the synchronous (hash-wasm) HMAC the key schedule uses.
 */
import { describe, expect, it } from 'vitest';
import {
  ctEqual,
  hmacSha256,
  hmacSha256Sync,
  hmacSha256Verify,
  loadSyncSha256,
} from '../../src/primitives.ts';
import vectors from '../../../../../shared/vectors/wycheproof/hmac_sha256_test.json';
import { hex } from '../helpers.ts';

describe('Wycheproof HMAC-SHA-256', () => {
  it('accepts every valid tag and rejects every modified one', async () => {
    await loadSyncSha256();
    let valid = 0;
    let invalid = 0;
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        const [key, msg, tag] = [hex(t.key), hex(t.msg), hex(t.tag)];
        expect(tag.length * 8).toBe(group.tagSize);
        const ok = await hmacSha256Verify(key, msg, tag);
        expect(ok, `tcId ${t.tcId}`).toBe(t.result === 'valid');
        expect(
          ctEqual(hmacSha256Sync(key, msg).subarray(0, tag.length), tag),
          `tcId ${t.tcId} (sync)`,
        ).toBe(t.result === 'valid');
        if (t.result === 'valid') {
          expect((await hmacSha256(key, msg)).subarray(0, tag.length), `tcId ${t.tcId}`).toEqual(
            tag,
          );
          valid++;
        } else {
          invalid++;
        }
      }
    }
    console.log(`hmac-sha256: ${valid} valid passed, ${invalid} invalid rejected`);
    expect(valid + invalid).toBe(vectors.numberOfTests);
  });
});
