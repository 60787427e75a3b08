/**
 * Thin, checked wrappers over WebCrypto (`globalThis.crypto`): randomness, constant-time
 * comparison, SHA-2, HMAC-SHA-256, HKDF-SHA-256/512, Ed25519, X25519 and AES-256-GCM.
 *
 * Each wrapper exists to add what WebCrypto leaves to the caller:
 * - labelled length checks on every key, nonce and signature;
 * - Ed25519 strictness that does not depend on the engine: small-order and non-canonical public
 *   keys are refused on import, and signatures with a non-canonical `S` or a small-order or
 *   non-canonical `R` are refused before the engine sees them (engines differ here);
 * - X25519 that refuses an all-zero shared secret (a low-order peer key) on every engine;
 * - failures of authenticated operations surface as one {@link AuthenticationError}.
 *
 * Only 96-bit nonces are accepted for AES-GCM, and the public AES-GCM functions choose the nonce
 * themselves: callers never pick one, so they cannot reuse one.
 *
 * @module
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { checkBytes, checkInt, concatBytes, toBytes, toHex, type Bytes } from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';

const subtle = () => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new InvalidInputError('WebCrypto (globalThis.crypto.subtle) is not available');
  return s;
};

// ---------------------------------------------------------------------------------------------
// Randomness and comparison

/**
 * `length` bytes from the platform CSPRNG. Loops because `getRandomValues` caps one call at
 * 65,536 bytes.
 */
export function randomBytes(length: number): Bytes {
  checkInt(length, 'length', 0, 1 << 30);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536)
    globalThis.crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/**
 * Compare two byte strings in time that depends only on their lengths (xor-accumulate, no early
 * exit), so comparing a secret MAC or commitment does not leak how many leading bytes matched.
 * Lengths are public in every use here.
 */
export function ctEqual(a: Uint8Array, b: Uint8Array): boolean {
  checkBytes(a, 'a');
  checkBytes(b, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// Hashes, HMAC, HKDF

/** SHA-256 digest. */
export async function sha256(data: Uint8Array): Promise<Bytes> {
  checkBytes(data, 'data');
  return new Uint8Array(await subtle().digest('SHA-256', toBytes(data)));
}

/** SHA-512 digest. */
export async function sha512(data: Uint8Array): Promise<Bytes> {
  checkBytes(data, 'data');
  return new Uint8Array(await subtle().digest('SHA-512', toBytes(data)));
}

type HashName = 'SHA-256' | 'SHA-512';
const HASH_LEN: Record<HashName, number> = { 'SHA-256': 32, 'SHA-512': 64 };

/** Import raw bytes as an HMAC key. WebCrypto refuses empty HMAC keys, so neither do we allow them. */
async function hmacKey(key: Uint8Array, hash: HashName): Promise<CryptoKey> {
  if (key.length === 0) throw new InvalidInputError('HMAC key must not be empty');
  return subtle().importKey('raw', toBytes(key), { name: 'HMAC', hash }, false, ['sign']);
}

async function hmacWith(key: CryptoKey, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign('HMAC', key, toBytes(data)));
}

/** HMAC-SHA-256(key, data): 32 bytes. The key must be non-empty. */
export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  checkBytes(key, 'key');
  checkBytes(data, 'data');
  return hmacWith(await hmacKey(key, 'SHA-256'), data);
}

/**
 * Check an HMAC-SHA-256 tag in constant time. `tag` may be a truncated tag of 16 to 32 bytes
 * (shorter tags are refused: they are too easy to forge). Returns `false` on mismatch.
 */
export async function hmacSha256Verify(
  key: Uint8Array,
  data: Uint8Array,
  tag: Uint8Array,
): Promise<boolean> {
  checkBytes(tag, 'tag');
  if (tag.length < 16 || tag.length > 32) throw new InvalidInputError('tag must be 16 to 32 bytes');
  const expected = await hmacSha256(key, data);
  return ctEqual(expected.subarray(0, tag.length), tag);
}

function checkHkdfLength(length: number, hash: HashName): void {
  const max = 255 * HASH_LEN[hash];
  checkInt(length, 'length', 1, max);
}

async function hkdf(
  hash: HashName,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  checkBytes(ikm, 'ikm');
  checkBytes(salt, 'salt');
  checkBytes(info, 'info');
  checkHkdfLength(length, hash);
  const key = await subtle().importKey('raw', toBytes(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash, salt: toBytes(salt), info: toBytes(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** HKDF-SHA-256 (RFC 5869, extract then expand). `length` is 1 to 8160 bytes. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  return hkdf('SHA-256', ikm, salt, info, length);
}

/** HKDF-SHA-512 (RFC 5869, extract then expand). `length` is 1 to 16320 bytes. */
export function hkdfSha512(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  return hkdf('SHA-512', ikm, salt, info, length);
}

/**
 * HKDF-Extract with SHA-256: `PRK = HMAC(salt, IKM)`. An empty salt means 32 zero bytes
 * (RFC 5869 §2.2), which also sidesteps WebCrypto's refusal of empty HMAC keys.
 */
export async function hkdfExtractSha256(salt: Uint8Array, ikm: Uint8Array): Promise<Bytes> {
  checkBytes(salt, 'salt');
  checkBytes(ikm, 'ikm');
  return hmacSha256(salt.length === 0 ? new Uint8Array(32) : salt, ikm);
}

async function hkdfExpand(
  hash: HashName,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  checkBytes(prk, 'prk');
  checkBytes(info, 'info');
  checkHkdfLength(length, hash);
  const key = await hmacKey(prk, hash);
  const hashLen = HASH_LEN[hash];
  const out = new Uint8Array(Math.ceil(length / hashLen) * hashLen);
  // T(i) = HMAC(PRK, T(i-1) || info || i); T(0) is empty.
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; (i - 1) * hashLen < length; i++) {
    previous = await hmacWith(key, concatBytes(previous, info, Uint8Array.of(i)));
    out.set(previous, (i - 1) * hashLen);
  }
  return out.slice(0, length);
}

/**
 * HKDF-Expand only, with SHA-256 (RFC 5869 §2.3). For when `prk` is already a uniformly random
 * key, as in the per-epoch key schedule. WebCrypto's HKDF always extracts first, hence HMAC here.
 */
export function hkdfExpandSha256(
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  return hkdfExpand('SHA-256', prk, info, length);
}

/** HKDF-Expand only, with SHA-512 (as Cobblestone specifies). */
export function hkdfExpandSha512(
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Bytes> {
  return hkdfExpand('SHA-512', prk, info, length);
}

// ---------------------------------------------------------------------------------------------
// Synchronous HMAC-SHA-256 (hash-wasm), for the per-message key schedule
//
// WebCrypto is asynchronous only, and each call costs tens of microseconds of engine overhead.
// The key schedule needs about six tiny HMACs per message (two per chain step, two for the message
// key); done through WebCrypto they dominated message cost, and an `await` between reading and
// advancing a chain forced a lock around it. A synchronous SHA-256 (hash-wasm's WebAssembly build)
// makes a chain step cost a few microseconds and makes "read chain, derive, advance" one atomic
// step of the event loop. It is checked against the same Wycheproof HMAC and HKDF vectors as the
// WebCrypto path. SHA-256 has no secret-dependent branches or table lookups, so this does not add
// a timing side channel.

let syncSha256: IHasher | undefined;
let syncSha256Loading: Promise<void> | undefined;

/**
 * Load the synchronous SHA-256 used by {@link hmacSha256Sync} (compiles a small WebAssembly
 * module once). Epoch states await this when they are created or restored.
 */
export function loadSyncSha256(): Promise<void> {
  syncSha256Loading ??= createSHA256().then((h) => {
    syncSha256 = h;
  });
  return syncSha256Loading;
}

function syncHasher(): IHasher {
  const h = syncSha256;
  if (!h) throw new InvalidInputError('loadSyncSha256() must complete before synchronous hashing');
  return h;
}

function sha256Sync(parts: Uint8Array[]): Bytes {
  const h = syncHasher();
  h.init();
  for (const part of parts) h.update(part);
  return h.digest('binary') as Bytes; // slice(): a fresh copy out of the WebAssembly memory
}

const HMAC_BLOCK = 64;

/**
 * The two HMAC pads of one key (RFC 2104: `K ^ ipad`, `K ^ opad`, the key zero-extended to the
 * block size, or hashed first if longer). Computed once per key and reused for every HMAC under
 * that key: the key schedule computes two HMACs per key (a chain step; a 44-byte HKDF-Expand),
 * and building the pads was most of the cost of a small HMAC. Zero them with
 * {@link wipeHmacPads} when done.
 */
interface HmacPads {
  inner: Uint8Array;
  outer: Uint8Array;
}

function hmacPads(key: Uint8Array): HmacPads {
  const k = key.length > HMAC_BLOCK ? sha256Sync([key]) : key;
  const inner = new Uint8Array(HMAC_BLOCK).fill(0x36);
  const outer = new Uint8Array(HMAC_BLOCK).fill(0x5c);
  // Only in-bounds reads: reading past the end of a typed array is a slow path in V8.
  for (let i = 0; i < k.length; i++) {
    inner[i]! ^= k[i]!;
    outer[i]! ^= k[i]!;
  }
  if (k !== key) k.fill(0);
  return { inner, outer };
}

function wipeHmacPads(pads: HmacPads): void {
  pads.inner.fill(0);
  pads.outer.fill(0);
}

// Scratch input for the hasher. hash-wasm reads `.buffer` of every array it is given, and for a
// small typed array V8 then has to move its bytes off the JS heap into a new backing store (V8
// keeps arrays of up to 64 bytes on-heap), which cost more than the hashing itself. Assembling
// each hash input here, in one long-lived buffer, makes every update a view on memory that is
// already off-heap. Synchronous use only (no await between filling and hashing), and wiped after
// each use since it holds key pads.
const SCRATCH = new Uint8Array(1024);

/** SHA-256 of the concatenation of `parts` (at most {@link SCRATCH} long in total), wiping the scratch. */
function sha256Scratch(h: IHasher, parts: Uint8Array[], length: number): Bytes {
  let offset = 0;
  for (const part of parts) {
    SCRATCH.set(part, offset);
    offset += part.length;
  }
  h.init();
  h.update(SCRATCH.subarray(0, length));
  SCRATCH.fill(0, 0, length);
  return h.digest('binary') as Bytes; // slice(): a fresh copy out of the WebAssembly memory
}

/** `HMAC(K, parts[0] || parts[1] || …)` = `H(K ^ opad || H(K ^ ipad || parts…))`. */
function hmacWithPads(pads: HmacPads, parts: Uint8Array[]): Bytes {
  const h = syncHasher();
  let length = HMAC_BLOCK;
  for (const part of parts) length += part.length;
  let innerHash: Bytes;
  if (length <= SCRATCH.length) {
    innerHash = sha256Scratch(h, [pads.inner, ...parts], length);
  } else {
    h.init();
    h.update(pads.inner);
    for (const part of parts) h.update(part);
    innerHash = h.digest('binary') as Bytes;
  }
  const result = sha256Scratch(h, [pads.outer, innerHash], HMAC_BLOCK + 32);
  innerHash.fill(0);
  return result;
}

/**
 * HMAC-SHA-256 computed synchronously (RFC 2104), after {@link loadSyncSha256}. Same result as
 * {@link hmacSha256}; an empty key is allowed here as in RFC 2104.
 */
export function hmacSha256Sync(key: Uint8Array, data: Uint8Array): Bytes {
  return hmacSha256SyncEach(key, [data])[0]!;
}

/**
 * HMAC-SHA-256 of each of `messages` under one `key`, synchronously (after
 * {@link loadSyncSha256}): `[HMAC(key, messages[0]), HMAC(key, messages[1]), …]`. Cheaper than
 * separate {@link hmacSha256Sync} calls because the key's pads are built once.
 */
export function hmacSha256SyncEach(key: Uint8Array, messages: Uint8Array[]): Bytes[] {
  checkBytes(key, 'key');
  for (const m of messages) checkBytes(m, 'data');
  const pads = hmacPads(key);
  try {
    return messages.map((m) => hmacWithPads(pads, [m]));
  } finally {
    wipeHmacPads(pads);
  }
}

/** HKDF-Extract with SHA-256, synchronously (after {@link loadSyncSha256}). */
export function hkdfExtractSha256Sync(salt: Uint8Array, ikm: Uint8Array): Bytes {
  return hmacSha256Sync(salt.length === 0 ? new Uint8Array(32) : salt, ikm);
}

/**
 * HKDF-Expand with SHA-256, synchronously (after {@link loadSyncSha256}). `length` is 1 to 8160.
 * Byte-identical to {@link hkdfExpandSha256} (and to WebCrypto's HKDF after the same extract):
 * `T(i) = HMAC(PRK, T(i-1) || info || i)`, output the first `length` bytes of `T(1) || T(2) || …`.
 */
export function hkdfExpandSha256Sync(prk: Uint8Array, info: Uint8Array, length: number): Bytes {
  checkBytes(prk, 'prk');
  checkBytes(info, 'info');
  checkHkdfLength(length, 'SHA-256');
  const blocks = Math.ceil(length / 32);
  const out = new Uint8Array(blocks * 32);
  const pads = hmacPads(prk);
  const counter = new Uint8Array(1);
  try {
    let previous: Uint8Array = new Uint8Array(0);
    for (let i = 1; i <= blocks; i++) {
      counter[0] = i;
      const t = hmacWithPads(pads, [previous, info, counter]);
      out.set(t, (i - 1) * 32);
      previous.fill(0);
      previous = t;
    }
    previous.fill(0);
  } finally {
    wipeHmacPads(pads);
  }
  if (blocks * 32 === length) return out;
  const result = out.slice(0, length);
  out.fill(0);
  return result;
}

/** PBKDF2-HMAC-SHA-256. Policy (minimum iterations) is enforced by the caller, not here. */
export async function pbkdf2Sha256(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Promise<Bytes> {
  checkBytes(password, 'password');
  checkBytes(salt, 'salt');
  checkInt(iterations, 'iterations', 1, 0xffffffff);
  checkInt(length, 'length', 1, 1 << 16);
  const key = await subtle().importKey('raw', toBytes(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: toBytes(salt), iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

// ---------------------------------------------------------------------------------------------
// Ed25519

/** An Ed25519 or X25519 key pair: the private key stays a `CryptoKey`, the public key is raw bytes. */
export interface KeyPair {
  /** Private key (non-extractable unless created for export). */
  privateKey: CryptoKey;
  /** Raw 32-byte public key. */
  publicKey: Bytes;
}

/**
 * Encodings (sign bit cleared) of every point of order dividing 8 on edwards25519, including the
 * non-canonical encodings of 0 and 1. A key or `R` equal to one of these, in either sign, lets a
 * signature verify for many messages or many keys. The list matches libsodium's; a test
 * recomputes each point's order with big-integer arithmetic.
 */
const SMALL_ORDER_Y: readonly Bytes[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0, order 4
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1, the identity
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1, order 2
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (= 0), non-canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (= 1), non-canonical
].map((h) => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16)));

/** @internal Exposed for the test that recomputes the orders. */
export const ED25519_SMALL_ORDER_ENCODINGS = SMALL_ORDER_Y;

/** True if `encoded` (32 bytes) is a small-order point, whatever its sign bit. */
export function isSmallOrderEd25519(encoded: Uint8Array): boolean {
  checkBytes(encoded, 'point', 32);
  let found = 0;
  for (const bad of SMALL_ORDER_Y) {
    let diff = (bad[31]! ^ encoded[31]!) & 0x7f;
    for (let i = 0; i < 31; i++) diff |= bad[i]! ^ encoded[i]!;
    found |= diff === 0 ? 1 : 0;
  }
  return found === 1;
}

/** True if the y coordinate in `encoded` is not reduced (y >= p = 2^255 - 19). */
function isNonCanonicalY(encoded: Uint8Array): boolean {
  if ((encoded[31]! & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return false;
  return encoded[0]! >= 0xed;
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ED25519_L = Uint8Array.from(
  'edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010'.match(/../g)!,
  (x) => parseInt(x, 16),
);

/** True if the little-endian scalar `s` is fully reduced (s < L). */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < ED25519_L[i]!) return true;
    if (s[i]! > ED25519_L[i]!) return false;
  }
  return false; // s == L
}

/**
 * Generate an Ed25519 key pair. Private keys are non-extractable unless `extractable` is set,
 * which only the user signing key needs, for the moment it is wrapped into secret storage.
 */
export async function generateEd25519KeyPair(extractable = false): Promise<KeyPair> {
  const pair = (await subtle().generateKey({ name: 'Ed25519' }, extractable, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * Check that `raw` is an acceptable Ed25519 public key: 32 bytes, canonical, not of small order.
 * Throws {@link InvalidInputError}; for keys from the network wrap the call (see `verify` paths).
 */
export function checkEd25519PublicKey(raw: Uint8Array, label = 'Ed25519 public key'): void {
  checkBytes(raw, label, 32);
  if (isNonCanonicalY(raw)) throw new InvalidInputError(`${label} must be canonically encoded`);
  if (isSmallOrderEd25519(raw))
    throw new InvalidInputError(`${label} must not be a small-order point`);
}

// Imported verification keys are cached by their bytes: import is the costliest part of a verify,
// and public keys are public, so caching them is harmless.
const verifyKeyCache = new Map<string, Promise<CryptoKey>>();
const VERIFY_KEY_CACHE_MAX = 512;

/**
 * Import a raw Ed25519 public key for verification, after {@link checkEd25519PublicKey}.
 */
export function importEd25519PublicKey(raw: Uint8Array): Promise<CryptoKey> {
  checkEd25519PublicKey(raw);
  const id = toHex(raw);
  let key = verifyKeyCache.get(id);
  if (key === undefined) {
    key = subtle().importKey('raw', toBytes(raw), { name: 'Ed25519' }, true, ['verify']);
    key.catch(() => verifyKeyCache.delete(id));
    if (verifyKeyCache.size >= VERIFY_KEY_CACHE_MAX) {
      const oldest = verifyKeyCache.keys().next().value;
      if (oldest !== undefined) verifyKeyCache.delete(oldest);
    }
    verifyKeyCache.set(id, key);
  }
  return key;
}

/** Ed25519 signature (64 bytes). Do not assume it is deterministic: some engines randomize. */
export async function ed25519Sign(privateKey: CryptoKey, message: Uint8Array): Promise<Bytes> {
  checkPrivateKey(privateKey, 'Ed25519', 'signing key');
  checkBytes(message, 'message');
  return new Uint8Array(await subtle().sign('Ed25519', privateKey, toBytes(message)));
}

/**
 * Verify an Ed25519 signature strictly. Returns `false` (never throws) for any signature that is
 * not exactly 64 bytes, has `S >= L`, or has a non-canonical or small-order `R`, and for a public
 * key that is not 32 bytes, non-canonical or of small order. These extra checks make the result
 * the same on every engine and exclude the malleable and "verifies for any message" cases.
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  checkBytes(message, 'message');
  if (!(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (isNonCanonicalY(publicKey) || isSmallOrderEd25519(publicKey)) return false;
  const r = signature.subarray(0, 32);
  if (isNonCanonicalY(r) || isSmallOrderEd25519(r)) return false;
  if (!isCanonicalScalar(signature.subarray(32))) return false;
  try {
    const key = await importEd25519PublicKey(publicKey);
    return await subtle().verify('Ed25519', key, toBytes(signature), toBytes(message));
  } catch {
    return false;
  }
}

/**
 * Import an Ed25519 private key from PKCS#8 (as stored in secret storage) and recover its public
 * key. The returned private key is non-extractable unless `extractable` is set.
 */
export async function importEd25519PrivateKey(
  pkcs8: Uint8Array,
  extractable = false,
): Promise<KeyPair> {
  checkBytes(pkcs8, 'pkcs8');
  let publicKey: Bytes;
  let privateKey: CryptoKey;
  try {
    // WebCrypto cannot derive a public key from a private one directly; a JWK export can.
    const temp = await subtle().importKey('pkcs8', toBytes(pkcs8), { name: 'Ed25519' }, true, [
      'sign',
    ]);
    const jwk = await subtle().exportKey('jwk', temp);
    publicKey = base64UrlDecodeLoose(jwk.x ?? '');
    privateKey = extractable
      ? temp
      : await subtle().importKey('pkcs8', toBytes(pkcs8), { name: 'Ed25519' }, false, ['sign']);
  } catch {
    throw new InvalidInputError('pkcs8 must be an Ed25519 private key');
  }
  checkEd25519PublicKey(publicKey);
  return { privateKey, publicKey };
}

/** Export an extractable private key as PKCS#8 bytes (only for wrapping into secret storage). */
export async function exportPkcs8(privateKey: CryptoKey): Promise<Bytes> {
  if (!(privateKey instanceof CryptoKey) || privateKey.type !== 'private') {
    throw new InvalidInputError('privateKey must be a private CryptoKey');
  }
  if (!privateKey.extractable)
    throw new InvalidInputError('privateKey must be extractable to export it');
  return new Uint8Array(await subtle().exportKey('pkcs8', privateKey));
}

// JWK members are unpadded base64url produced by the engine itself; no strictness needed here.
function base64UrlDecodeLoose(text: string): Bytes {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function checkPrivateKey(key: unknown, algorithm: string, label: string): asserts key is CryptoKey {
  if (!(key instanceof CryptoKey) || key.type !== 'private' || key.algorithm.name !== algorithm) {
    throw new InvalidInputError(`${label} must be an ${algorithm} private CryptoKey`);
  }
}

// ---------------------------------------------------------------------------------------------
// X25519

/** Generate an X25519 key pair (non-extractable private key unless `extractable`). */
export async function generateX25519KeyPair(extractable = false): Promise<KeyPair> {
  const pair = (await subtle().generateKey({ name: 'X25519' }, extractable, [
    'deriveBits',
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

const X25519_PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);

/** Import a raw 32-byte X25519 scalar (wrapped into PKCS#8, the only private format WebCrypto takes). */
export async function importX25519PrivateKey(
  raw: Uint8Array,
  extractable = false,
): Promise<KeyPair> {
  checkBytes(raw, 'X25519 private key', 32);
  return importX25519Pkcs8(concatBytes(X25519_PKCS8_PREFIX, raw), extractable);
}

/** Import an X25519 private key from PKCS#8 and recover its public key. */
export async function importX25519Pkcs8(pkcs8: Uint8Array, extractable = false): Promise<KeyPair> {
  checkBytes(pkcs8, 'pkcs8');
  try {
    const temp = await subtle().importKey('pkcs8', toBytes(pkcs8), { name: 'X25519' }, true, [
      'deriveBits',
    ]);
    const jwk = await subtle().exportKey('jwk', temp);
    const publicKey = base64UrlDecodeLoose(jwk.x ?? '');
    const privateKey = extractable
      ? temp
      : await subtle().importKey('pkcs8', toBytes(pkcs8), { name: 'X25519' }, false, [
          'deriveBits',
        ]);
    return { privateKey, publicKey };
  } catch {
    throw new InvalidInputError('pkcs8 must be an X25519 private key');
  }
}

/**
 * X25519 shared secret. A peer key that yields the all-zero secret (a low-order point, which
 * would make the "secret" public) throws {@link AuthenticationError}, on every engine.
 */
export async function x25519(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<Bytes> {
  checkPrivateKey(privateKey, 'X25519', 'privateKey');
  checkBytes(peerPublicKey, 'peer public key', 32);
  let shared: Bytes;
  try {
    const pub = await subtle().importKey(
      'raw',
      toBytes(peerPublicKey),
      { name: 'X25519' },
      false,
      [],
    );
    shared = new Uint8Array(
      await subtle().deriveBits({ name: 'X25519', public: pub }, privateKey, 256),
    );
  } catch {
    throw new AuthenticationError();
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw new AuthenticationError();
  return shared;
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM

/** AES-GCM nonce length: 96 bits, the only size GCM handles without an extra GHASH step. */
export const GCM_NONCE_LENGTH = 12;
/** AES-GCM tag length: 128 bits. */
export const GCM_TAG_LENGTH = 16;

/** Import a 32-byte AES-256-GCM key (non-extractable). */
export function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  checkBytes(raw, 'key', 32);
  return subtle().importKey('raw', toBytes(raw), { name: 'AES-GCM' }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/**
 * @internal AES-GCM with a caller-supplied 96-bit nonce. Not exported from the package entry:
 * only protocol code whose nonce is derived once per key (message keys, Cobblestone chunks) may
 * call it. Accepts 16- or 32-byte raw keys so the Wycheproof AES-128 groups can be run too.
 */
export async function aesGcmEncryptWithNonce(
  key: CryptoKey | Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  checkBytes(nonce, 'nonce', GCM_NONCE_LENGTH);
  checkBytes(plaintext, 'plaintext');
  checkBytes(aad, 'aad');
  const k = await gcmKey(key);
  return new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: toBytes(nonce), additionalData: toBytes(aad), tagLength: 128 },
      k,
      toBytes(plaintext),
    ),
  );
}

/**
 * @internal Counterpart of {@link aesGcmEncryptWithNonce}. Any failure (wrong key, tag, nonce,
 * AAD, truncated input) throws {@link AuthenticationError}.
 */
export async function aesGcmDecryptWithNonce(
  key: CryptoKey | Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  checkBytes(nonce, 'nonce', GCM_NONCE_LENGTH);
  checkBytes(ciphertext, 'ciphertext');
  checkBytes(aad, 'aad');
  const k = await gcmKey(key);
  if (ciphertext.length < GCM_TAG_LENGTH) throw new AuthenticationError();
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: toBytes(nonce), additionalData: toBytes(aad), tagLength: 128 },
        k,
        toBytes(ciphertext),
      ),
    );
  } catch {
    throw new AuthenticationError();
  }
}

async function gcmKey(key: CryptoKey | Uint8Array): Promise<CryptoKey> {
  if (key instanceof Uint8Array) {
    if (key.length !== 16 && key.length !== 32) throw new InvalidInputError('key must be 32 bytes');
    return subtle().importKey('raw', toBytes(key), { name: 'AES-GCM' }, false, [
      'encrypt',
      'decrypt',
    ]);
  }
  if (!(key instanceof CryptoKey) || key.algorithm.name !== 'AES-GCM') {
    throw new InvalidInputError('key must be 32 bytes or an AES-GCM CryptoKey');
  }
  return key;
}

/**
 * AES-256-GCM with a fresh random 96-bit nonce, returned as `nonce || ciphertext || tag`.
 * Random nonces collide with probability about n^2 / 2^97 after n messages, so encrypt at most
 * 2^32 messages under one key (NIST SP 800-38D); the protocol derives a new key per secret well
 * below that.
 */
export async function aesGcmSeal(
  key: CryptoKey | Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  if (key instanceof Uint8Array) checkBytes(key, 'key', 32);
  const nonce = randomBytes(GCM_NONCE_LENGTH);
  return concatBytes(nonce, await aesGcmEncryptWithNonce(key, nonce, plaintext, aad));
}

/** Open the output of {@link aesGcmSeal}; any failure throws {@link AuthenticationError}. */
export async function aesGcmOpen(
  key: CryptoKey | Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Bytes> {
  if (key instanceof Uint8Array) checkBytes(key, 'key', 32);
  checkBytes(sealed, 'sealed');
  if (sealed.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) throw new AuthenticationError();
  return aesGcmDecryptWithNonce(
    key,
    sealed.subarray(0, GCM_NONCE_LENGTH),
    sealed.subarray(GCM_NONCE_LENGTH),
    aad,
  );
}
