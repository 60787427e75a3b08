/**
 * The canonical binary codec for everything this package signs, hashes or uses as associated
 * data, plus base64url, hex and UTF-8 helpers.
 *
 * Why a hand-written codec and not JSON: a signature covers bytes, not values. JSON lets two
 * encoders write the same value differently (key order, whitespace, number and escape forms), and
 * lets a parser accept input the signer never produced (duplicate keys, trailing garbage). Here
 * every value has exactly one encoding:
 * - integers are big-endian and fixed width (`u8`, `u16`, `u32`, `u64`);
 * - fixed-size fields (ids, keys, hashes) are written raw and their length is checked;
 * - variable-size fields carry a length prefix (`u32` unless a format says otherwise);
 * - strings are UTF-8, decoded strictly (invalid sequences are errors, not U+FFFD);
 * - a decoder must consume the whole input: trailing bytes are rejected.
 *
 * @module
 */
import { InvalidInputError } from './errors.ts';

/** A byte array backed by a plain `ArrayBuffer`: what WebCrypto accepts and what we return. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Largest integer a `u64` field may hold here: JavaScript numbers are exact only up to 2^53 - 1. */
export const MAX_U64 = Number.MAX_SAFE_INTEGER;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// TextEncoder would silently turn a lone surrogate into U+FFFD, so two different strings could
// sign as the same bytes; reject them instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throw {@link InvalidInputError} unless `value` is a `Uint8Array`, optionally of `length` bytes. */
export function checkBytes(
  value: unknown,
  label: string,
  length?: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidInputError(`${label} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new InvalidInputError(`${label} must be ${length} bytes`);
  }
}

/** Throw {@link InvalidInputError} unless `value` is an integer in `[min, max]`. */
export function checkInt(
  value: unknown,
  label: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`${label} must be an integer from ${min} to ${max}`);
  }
}

/** Throw {@link InvalidInputError} unless `value` is a string. */
export function checkString(value: unknown, label: string): asserts value is string {
  if (typeof value !== 'string') throw new InvalidInputError(`${label} must be a string`);
}

/**
 * Return `bytes` itself when it is already backed by a plain `ArrayBuffer` covering it, else a
 * copy. WebCrypto's typings (and some engines) refuse views over a `SharedArrayBuffer`.
 */
export function toBytes(bytes: Uint8Array): Bytes {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Bytes) : new Uint8Array(bytes);
}

/** Concatenate byte arrays into a new array. */
export function concatBytes(...parts: Uint8Array[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Encode a string as UTF-8. Lone surrogates are rejected rather than silently replaced. */
export function utf8Encode(text: string, label = 'text'): Bytes {
  checkString(text, label);
  if (LONE_SURROGATE.test(text))
    throw new InvalidInputError(`${label} must be well-formed Unicode`);
  return utf8Encoder.encode(text) as Bytes;
}

/** Decode strict UTF-8: malformed input throws {@link InvalidInputError} instead of becoming U+FFFD. */
export function utf8Decode(bytes: Uint8Array, label = 'text'): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new InvalidInputError(`${label} must be valid UTF-8`);
  }
}

const HEX = '0123456789abcdef';

/** Lowercase hex, the form the API uses for 16-byte identifiers (32 characters). */
export function toHex(bytes: Uint8Array): string {
  checkBytes(bytes, 'bytes');
  let out = '';
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/**
 * Parse lowercase hex. Uppercase, odd lengths and other characters are rejected so that every
 * identifier has one spelling; pass `length` to also require a byte length.
 */
export function fromHex(hex: string, length?: number): Bytes {
  checkString(hex, 'hex');
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    throw new InvalidInputError('hex must be lowercase hexadecimal with an even number of digits');
  }
  if (length !== undefined && hex.length !== length * 2) {
    throw new InvalidInputError(`hex must encode ${length} bytes`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX = new Map([...B64URL].map((c, i) => [c, i]));

/** base64url without padding (RFC 4648 §5), the form used in URLs, JSON bodies and QR codes. */
export function toBase64Url(bytes: Uint8Array): string {
  checkBytes(bytes, 'bytes');
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Parse unpadded base64url strictly: padding, whitespace, the `+/` alphabet, impossible lengths
 * and non-zero leftover bits are all rejected, so each byte string has exactly one text form.
 */
export function fromBase64Url(text: string): Bytes {
  checkString(text, 'base64url');
  if (text.length % 4 === 1) throw new InvalidInputError('base64url has an impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const c of text) {
    const v = B64URL_INDEX.get(c);
    if (v === undefined) throw new InvalidInputError('base64url contains an invalid character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0)
    throw new InvalidInputError('base64url has non-zero padding bits');
  return out;
}

/**
 * Builds one canonical encoding. Every method checks its argument and names the field in the
 * error, so a bad value is reported where it enters instead of as a corrupt encoding later.
 */
export class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #reserve(n: number): number {
    const at = this.#len;
    if (at + n > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    this.#len = at + n;
    return at;
  }

  /** Append an unsigned 8-bit integer. */
  u8(value: number, label = 'u8'): this {
    checkInt(value, label, 0, 0xff);
    const at = this.#reserve(1);
    this.#view.setUint8(at, value);
    return this;
  }

  /** Append an unsigned 16-bit big-endian integer. */
  u16(value: number, label = 'u16'): this {
    checkInt(value, label, 0, 0xffff);
    const at = this.#reserve(2);
    this.#view.setUint16(at, value);
    return this;
  }

  /** Append an unsigned 32-bit big-endian integer. */
  u32(value: number, label = 'u32'): this {
    checkInt(value, label, 0, 0xffffffff);
    const at = this.#reserve(4);
    this.#view.setUint32(at, value);
    return this;
  }

  /** Append an unsigned 64-bit big-endian integer (values up to 2^53 - 1). */
  u64(value: number, label = 'u64'): this {
    checkInt(value, label, 0, MAX_U64);
    const at = this.#reserve(8);
    this.#view.setUint32(at, Math.floor(value / 0x1_0000_0000));
    this.#view.setUint32(at + 4, value >>> 0);
    return this;
  }

  /** Append a fixed-size field; its length is part of the format, so it is checked, not written. */
  fixed(bytes: Uint8Array, length: number, label = 'field'): this {
    checkBytes(bytes, label, length);
    // Reserve first: it may replace `#buf` with a larger array.
    const at = this.#reserve(length);
    this.#buf.set(bytes, at);
    return this;
  }

  /** Append raw bytes with no length prefix (only for a trailing field whose end is the input's end). */
  raw(bytes: Uint8Array, label = 'field'): this {
    checkBytes(bytes, label);
    const at = this.#reserve(bytes.length);
    this.#buf.set(bytes, at);
    return this;
  }

  /** Append bytes with a `u16` length prefix. */
  vec16(bytes: Uint8Array, label = 'field'): this {
    checkBytes(bytes, label);
    if (bytes.length > 0xffff) throw new InvalidInputError(`${label} must be at most 65535 bytes`);
    this.u16(bytes.length);
    return this.raw(bytes, label);
  }

  /** Append bytes with a `u32` length prefix. */
  vec32(bytes: Uint8Array, label = 'field'): this {
    checkBytes(bytes, label);
    this.u32(bytes.length, `${label} length`);
    return this.raw(bytes, label);
  }

  /** Append a UTF-8 string with a `u16` length prefix. */
  str16(text: string, label = 'string'): this {
    return this.vec16(utf8Encode(text, label), label);
  }

  /** Append a UTF-8 string with a `u32` length prefix. */
  str32(text: string, label = 'string'): this {
    return this.vec32(utf8Encode(text, label), label);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** The encoding, as a new array the writer no longer touches. */
  finish(): Bytes {
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * Reads one canonical encoding strictly. Reading past the end throws, and {@link Reader.end}
 * throws if anything is left over, so a decoder built from it accepts exactly what the matching
 * {@link Writer} code produces. Errors are {@link InvalidInputError}s naming `what` was being read;
 * code that parses attacker-controlled data converts them to an `AuthenticationError`.
 */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(
    bytes: Uint8Array,
    readonly what = 'input',
  ) {
    checkBytes(bytes, what);
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #take(n: number, label: string): number {
    if (n > this.#bytes.length - this.#pos)
      throw new InvalidInputError(`${this.what}: ${label} is truncated`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** Read an unsigned 8-bit integer. */
  u8(label = 'u8'): number {
    return this.#view.getUint8(this.#take(1, label));
  }

  /** Read an unsigned 16-bit big-endian integer. */
  u16(label = 'u16'): number {
    return this.#view.getUint16(this.#take(2, label));
  }

  /** Read an unsigned 32-bit big-endian integer. */
  u32(label = 'u32'): number {
    return this.#view.getUint32(this.#take(4, label));
  }

  /** Read an unsigned 64-bit big-endian integer; values above 2^53 - 1 are rejected. */
  u64(label = 'u64'): number {
    const at = this.#take(8, label);
    const hi = this.#view.getUint32(at);
    const lo = this.#view.getUint32(at + 4);
    if (hi > 0x1fffff) throw new InvalidInputError(`${this.what}: ${label} is out of range`);
    return hi * 0x1_0000_0000 + lo;
  }

  /** Read a fixed-size field (a copy, so later changes to the input do not alias it). */
  fixed(length: number, label = 'field'): Bytes {
    const at = this.#take(length, label);
    return this.#bytes.slice(at, at + length) as Bytes;
  }

  /** Read a field with a `u16` length prefix, rejecting lengths above `max`. */
  vec16(label = 'field', max = 0xffff): Bytes {
    const n = this.u16(`${label} length`);
    if (n > max) throw new InvalidInputError(`${this.what}: ${label} is too long`);
    return this.fixed(n, label);
  }

  /** Read a field with a `u32` length prefix, rejecting lengths above `max`. */
  vec32(label = 'field', max = 0xffffffff): Bytes {
    const n = this.u32(`${label} length`);
    if (n > max) throw new InvalidInputError(`${this.what}: ${label} is too long`);
    return this.fixed(n, label);
  }

  /** Read a strict UTF-8 string with a `u16` length prefix. */
  str16(label = 'string', maxBytes = 0xffff): string {
    return utf8Decode(this.vec16(label, maxBytes), `${this.what}: ${label}`);
  }

  /** Read a strict UTF-8 string with a `u32` length prefix. */
  str32(label = 'string', maxBytes = 0xffffffff): string {
    return utf8Decode(this.vec32(label, maxBytes), `${this.what}: ${label}`);
  }

  /** Read everything that is left (for a trailing field whose end is the input's end). */
  rest(): Bytes {
    return this.fixed(this.remaining, 'rest');
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** Require that the input was consumed exactly: trailing bytes are an error. */
  end(): void {
    if (this.#pos !== this.#bytes.length)
      throw new InvalidInputError(`${this.what}: trailing bytes`);
  }
}

/** Require `value` to be a list of at most `max` items (a bound on attacker-sized allocations). */
export function checkList<T>(value: unknown, label: string, max: number): asserts value is T[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${label} must be an array`);
  if (value.length > max) throw new InvalidInputError(`${label} must have at most ${max} items`);
}

/** Compare two byte strings lexicographically (used to put lists in their one canonical order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
