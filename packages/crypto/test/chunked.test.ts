/**
 * Cobblestone-256 (`@securechat/crypto/chunked`): round trips at the boundary sizes, rejection of
 * every tampering the spec names, an independent reference implementation written from the spec
 * text, and the streaming guarantee that no unauthenticated byte is ever emitted.
 */
import { describe, expect, it } from 'vitest';
import { createOpenStream, createSealStream, openChunked, sealChunked } from '../src/chunked.ts';
import { concatBytes, utf8Encode } from '../src/encoding.ts';
import { AuthenticationError } from '../src/errors.ts';
import { randomBytes } from '../src/primitives.ts';
import { expectAuthFailure, expectBytes, flipBit } from './helpers.ts';

const CHUNK = 16384;
const ENC_CHUNK = CHUNK + 16;
const HEADER = 56;
const key = randomBytes(32);
const context = utf8Encode('securechat/v1/file test');

/** Deterministic non-random plaintext, so a misplaced chunk shows up as a mismatch. */
function pattern(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 14)) & 0xff;
  return out;
}

/** Feed `input` to a transform in pieces of `piece` bytes; collect outputs as they are emitted. */
async function runStream(
  stream: TransformStream<Uint8Array, Uint8Array>,
  input: Uint8Array,
  piece: number,
): Promise<{ output: Uint8Array; error: unknown; emitted: Uint8Array[] }> {
  const emitted: Uint8Array[] = [];
  const reader = stream.readable.getReader();
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      emitted.push(value);
    }
  })();
  const writer = stream.writable.getWriter();
  let error: unknown;
  try {
    for (let i = 0; i < input.length; i += piece) await writer.write(input.slice(i, i + piece));
    await writer.close();
  } catch (e) {
    error = e;
  }
  try {
    await reading;
  } catch (e) {
    error ??= e;
  }
  return { output: concatBytes(...emitted), error, emitted };
}

// An independent opener written from the spec text with raw WebCrypto calls, to check the
// layout (info string, nonce XOR, chunking) rather than round-tripping our own code.
async function referenceOpen(
  k: Uint8Array<ArrayBuffer>,
  ct: Uint8Array,
  ctx: Uint8Array,
): Promise<Uint8Array> {
  const salt = ct.slice(0, 24);
  const info = concatBytes(
    new TextEncoder().encode('c2sp.org/chunked-encryption@v1+'),
    new TextEncoder().encode('AEAD_AES_256_GCM'),
    Uint8Array.of(0),
    salt,
    ctx,
  );
  const hmacKey = await crypto.subtle.importKey(
    'raw',
    k,
    { name: 'HMAC', hash: 'SHA-512' },
    false,
    ['sign'],
  );
  const t1 = new Uint8Array(
    await crypto.subtle.sign('HMAC', hmacKey, concatBytes(info, Uint8Array.of(1))),
  );
  const t2 = new Uint8Array(
    await crypto.subtle.sign('HMAC', hmacKey, concatBytes(t1, info, Uint8Array.of(2))),
  );
  const okm = concatBytes(t1, t2);
  expect(ct.slice(24, 56)).toEqual(okm.slice(44, 76));
  const aes = await crypto.subtle.importKey('raw', okm.slice(0, 32), 'AES-GCM', false, ['decrypt']);
  const parts: Uint8Array[] = [];
  for (let i = 0, off = HEADER; ; i++, off += ENC_CHUNK) {
    const nonce = okm.slice(32, 44);
    nonce[11]! ^= i & 0xff;
    nonce[10]! ^= (i >> 8) & 0xff;
    nonce[9]! ^= (i >> 16) & 0xff;
    const chunk = ct.slice(off, off + ENC_CHUNK);
    parts.push(
      new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aes, chunk)),
    );
    if (chunk.length < ENC_CHUNK) return concatBytes(...parts);
  }
}

describe('Cobblestone-256 whole-buffer', () => {
  for (const size of [0, 1, 16383, 16384, 16385, 1024 * 1024 + 7]) {
    it(`round-trips ${size} bytes with the spec's length and layout`, async () => {
      const pt = pattern(size);
      const ct = await sealChunked(key, pt, context);
      expect(ct.length).toBe(HEADER + size + 16 * (Math.floor(size / CHUNK) + 1));
      expectBytes(await openChunked(key, ct, context), pt);
      expectBytes(await referenceOpen(key, ct, context), pt);
    });
  }

  it('uses a fresh salt per message and an empty default context', async () => {
    const pt = pattern(100);
    const a = await sealChunked(key, pt);
    const b = await sealChunked(key, pt);
    expect(a.slice(0, 24)).not.toEqual(b.slice(0, 24));
    expect(await openChunked(key, a)).toEqual(pt);
    expect(await openChunked(key, a, new Uint8Array(0))).toEqual(pt);
  });

  describe('rejects', () => {
    const pt = pattern(3 * CHUNK + 100); // chunks: 3 full + 1 short
    const sealed = sealChunked(key, pt, context);

    it('truncation at a chunk boundary (dropping the final chunk)', async () => {
      const ct = await sealed;
      await expectAuthFailure(openChunked(key, ct.slice(0, HEADER + 3 * ENC_CHUNK), context));
    });
    it('truncation inside a chunk and below the minimum length', async () => {
      const ct = await sealed;
      await expectAuthFailure(openChunked(key, ct.slice(0, ct.length - 1), context));
      await expectAuthFailure(openChunked(key, ct.slice(0, HEADER + 3 * ENC_CHUNK + 15), context));
      await expectAuthFailure(openChunked(key, ct.slice(0, HEADER + 15), context));
      await expectAuthFailure(openChunked(key, ct.slice(0, 10), context));
    });
    it('chunk reordering', async () => {
      const ct = await sealed;
      const swapped = Uint8Array.from(ct);
      swapped.set(ct.subarray(HEADER, HEADER + ENC_CHUNK), HEADER + ENC_CHUNK);
      swapped.set(ct.subarray(HEADER + ENC_CHUNK, HEADER + 2 * ENC_CHUNK), HEADER);
      await expectAuthFailure(openChunked(key, swapped, context));
    });
    it('trailing data (a byte, a tag-sized tail, a whole extra chunk)', async () => {
      const ct = await sealed;
      await expectAuthFailure(openChunked(key, concatBytes(ct, Uint8Array.of(0)), context));
      await expectAuthFailure(openChunked(key, concatBytes(ct, new Uint8Array(16)), context));
      await expectAuthFailure(
        openChunked(key, concatBytes(ct, ct.subarray(HEADER, HEADER + ENC_CHUNK)), context),
      );
    });
    it('a flipped bit in the commitment, the salt, or any chunk', async () => {
      const ct = await sealed;
      await expectAuthFailure(openChunked(key, flipBit(ct, 24 * 8 + 5), context));
      await expectAuthFailure(openChunked(key, flipBit(ct, 55 * 8 + 7), context));
      await expectAuthFailure(openChunked(key, flipBit(ct, 3), context));
      await expectAuthFailure(openChunked(key, flipBit(ct, (HEADER + ENC_CHUNK + 7) * 8), context));
      await expectAuthFailure(openChunked(key, flipBit(ct, ct.length * 8 - 1), context));
    });
    it('a wrong key and a wrong context', async () => {
      const ct = await sealed;
      await expectAuthFailure(openChunked(randomBytes(32), ct, context));
      await expectAuthFailure(openChunked(key, ct, utf8Encode('securechat/v1/file other')));
      await expectAuthFailure(openChunked(key, ct));
    });
    it('inputs of the wrong type or length, with a labelled message', async () => {
      await expect(sealChunked(new Uint8Array(16), pt)).rejects.toThrow('key must be 32 bytes');
      await expect(openChunked(key, 'x' as never)).rejects.toThrow(
        'ciphertext must be a Uint8Array',
      );
    });
  });
});

describe('Cobblestone-256 streams', () => {
  for (const size of [0, 1, 16383, 16384, 16385, 1024 * 1024 + 7]) {
    it(`round-trips ${size} bytes through seal and open streams`, async () => {
      const pt = pattern(size);
      const piece = size > 100_000 ? 10_000 : 777;
      const sealed = await runStream(createSealStream(key, context), pt, piece);
      expect(sealed.error).toBeUndefined();
      expectBytes(await openChunked(key, sealed.output, context), pt);
      const whole = await sealChunked(key, pt, context);
      const opened = await runStream(createOpenStream(key, context), whole, piece + 13);
      expect(opened.error).toBeUndefined();
      expectBytes(opened.output, pt);
    });
  }

  it('accepts input in one piece and in one-byte pieces', async () => {
    const pt = pattern(2 * CHUNK + 3);
    const ct = await sealChunked(key, pt, context);
    expect((await runStream(createOpenStream(key, context), ct, ct.length)).output).toEqual(pt);
    const tiny = ct.slice(0, HEADER + ENC_CHUNK + 40);
    const res = await runStream(createOpenStream(key, context), tiny, 1);
    expect(res.error).toBeInstanceOf(AuthenticationError);
  });

  it('never emits bytes of a chunk that did not authenticate', async () => {
    const pt = pattern(5 * CHUNK + 10);
    const ct = await sealChunked(key, pt, context);
    for (const bad of [0, 2, 4, 5]) {
      // Inside chunk `bad` (the final chunk, index 5, is 26 bytes long).
      const tampered = flipBit(ct, (HEADER + bad * ENC_CHUNK + (bad === 5 ? 20 : 100)) * 8);
      const res = await runStream(createOpenStream(key, context), tampered, 5000);
      expect(res.error).toBeInstanceOf(AuthenticationError);
      // Everything emitted is exactly the plaintext of the chunks before the bad one.
      expectBytes(res.output, pt.subarray(0, bad * CHUNK));
    }
  });

  it('holds back a full chunk until it is known not to be the last, then rejects truncation', async () => {
    const pt = pattern(3 * CHUNK + 10);
    const ct = await sealChunked(key, pt, context);
    // Cut after two full chunks: the second must not be released, since a message cannot end on
    // a full chunk.
    const cut = ct.slice(0, HEADER + 2 * ENC_CHUNK);
    const res = await runStream(createOpenStream(key, context), cut, cut.length);
    expect(res.error).toBeInstanceOf(AuthenticationError);
    expect(res.output).toEqual(pt.subarray(0, CHUNK));
  });

  it('checks the commitment before decrypting anything', async () => {
    const ct = await sealChunked(key, pattern(3 * CHUNK), context);
    for (const tampered of [flipBit(ct, 30 * 8), ct]) {
      const ctx = tampered === ct ? utf8Encode('other') : context;
      const res = await runStream(createOpenStream(key, ctx), tampered, 1000);
      expect(res.error).toBeInstanceOf(AuthenticationError);
      expect(res.emitted).toHaveLength(0);
    }
  });

  it('rejects reordered chunks, trailing data and a wrong key', async () => {
    const pt = pattern(3 * CHUNK + 1);
    const ct = await sealChunked(key, pt, context);
    const swapped = Uint8Array.from(ct);
    swapped.set(ct.subarray(HEADER, HEADER + ENC_CHUNK), HEADER + ENC_CHUNK);
    swapped.set(ct.subarray(HEADER + ENC_CHUNK, HEADER + 2 * ENC_CHUNK), HEADER);
    for (const [k, input] of [
      [key, swapped],
      [key, concatBytes(ct, Uint8Array.of(1))],
      [randomBytes(32), ct],
    ] as const) {
      const res = await runStream(createOpenStream(k, context), input, 4096);
      expect(res.error).toBeInstanceOf(AuthenticationError);
    }
  });
});
