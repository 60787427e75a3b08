/**
 * The canonical codec and text encodings: exact byte layouts, strict parsing, one spelling per
 * value, and the domain-separation labels.
 */
import { describe, expect, it } from 'vitest';
import {
  fromBase64Url,
  fromHex,
  InvalidInputError,
  Reader,
  SIG_LABELS,
  KDF_LABELS,
  toBase64Url,
  toHex,
  utf8Decode,
  utf8Encode,
  Writer,
} from '../src/index.ts';

describe('Writer and Reader', () => {
  it('write big-endian integers and length prefixes', () => {
    const bytes = new Writer()
      .u8(1)
      .u16(0x0203)
      .u32(0x04050607)
      .u64(0x08090a0b0c0d)
      .vec16(Uint8Array.of(9))
      .vec32(Uint8Array.of(8, 7))
      .str16('é')
      .finish();
    expect(toHex(bytes)).toBe(
      '01' + '0203' + '04050607' + '000008090a0b0c0d' + '000109' + '000000020807' + '0002c3a9',
    );
    const r = new Reader(bytes, 'sample');
    expect([r.u8(), r.u16(), r.u32(), r.u64()]).toEqual([1, 0x0203, 0x04050607, 0x08090a0b0c0d]);
    expect(r.vec16()).toEqual(Uint8Array.of(9));
    expect(r.vec32()).toEqual(Uint8Array.of(8, 7));
    expect(r.str16()).toBe('é');
    r.end();
  });

  it('grow past their initial buffer without corrupting earlier fields', () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const w = new Writer().u32(7).fixed(big.subarray(0, 200), 200).raw(big).u8(5);
    const r = new Reader(w.finish());
    expect(r.u32()).toBe(7);
    expect(r.fixed(200)).toEqual(big.subarray(0, 200));
    expect(r.fixed(1000)).toEqual(big);
    expect(r.u8()).toBe(5);
    r.end();
  });

  it('reject truncation, trailing bytes, out-of-range values and bad UTF-8, naming the field', () => {
    expect(() => new Reader(Uint8Array.of(0, 0, 0), 'hdr').u32('epoch')).toThrow(
      'hdr: epoch is truncated',
    );
    const r = new Reader(Uint8Array.of(1, 2), 'hdr');
    r.u8();
    expect(() => r.end()).toThrow('hdr: trailing bytes');
    expect(() => new Reader(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0)).u64()).toThrow(
      'out of range',
    );
    expect(() => new Reader(Uint8Array.of(0, 1, 0xff)).str16('name')).toThrow('valid UTF-8');
    expect(() => new Reader(Uint8Array.of(0, 0, 0, 9, 1)).vec32('blob', 4)).toThrow(
      'blob is too long',
    );
    expect(() => new Writer().u8(256)).toThrow(InvalidInputError);
    expect(() => new Writer().u32(-1, 'epoch')).toThrow(
      'epoch must be an integer from 0 to 4294967295',
    );
    expect(() => new Writer().fixed(new Uint8Array(15), 16, 'convId')).toThrow(
      'convId must be 16 bytes',
    );
    expect(() => new Writer().u64(2 ** 53)).toThrow(InvalidInputError);
  });

  it('refuses lone surrogates instead of silently replacing them', () => {
    expect(() => utf8Encode('a\uD800b')).toThrow('well-formed');
    expect(utf8Decode(utf8Encode('😀'))).toBe('😀');
  });
});

describe('hex and base64url', () => {
  it('round-trip and accept exactly one spelling', () => {
    const bytes = Uint8Array.of(0, 1, 0xfe, 0xff, 0x10);
    expect(toHex(bytes)).toBe('0001feff10');
    expect(fromHex('0001feff10')).toEqual(bytes);
    expect(() => fromHex('0001FEFF10')).toThrow('lowercase');
    expect(() => fromHex('abc')).toThrow(InvalidInputError);
    expect(() => fromHex('00', 16)).toThrow('16 bytes');
    for (let n = 0; n < 8; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 77) & 0xff);
      expect(fromBase64Url(toBase64Url(b))).toEqual(b);
    }
    expect(toBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(() => fromBase64Url('-_8=')).toThrow('invalid character');
    expect(() => fromBase64Url('-_9')).toThrow('non-zero padding bits');
    expect(() => fromBase64Url('A')).toThrow('impossible length');
    expect(() => fromBase64Url('+/8')).toThrow('invalid character');
  });
});

describe('labels', () => {
  it('are versioned and the signature labels are prefix-free', () => {
    const dec = (b: Uint8Array) => new TextDecoder().decode(b);
    const sig = Object.values(SIG_LABELS).map(dec);
    const all = [...sig, ...Object.values(KDF_LABELS).map(dec)];
    for (const l of all) expect(l.startsWith('securechat/v1/')).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    for (const a of sig)
      for (const b of sig) if (a !== b) expect(b.startsWith(a), `${a} prefixes ${b}`).toBe(false);
  });
});
