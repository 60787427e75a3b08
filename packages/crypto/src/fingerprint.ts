/**
 * Safety numbers (§3.10): Signal's NumericFingerprint algorithm over two users' USKs, so two
 * people can check, in person or over another channel, that no one substituted a key.
 *
 * Per side: `h = SHA-512(0x0000 || key || stable_id || key)`, then 5199 more rounds of
 * `h = SHA-512(h || key)`. The first 30 bytes become 30 digits (six 5-byte big-endian numbers,
 * each mod 100000, zero-padded). Both sides' digits are joined in sorted order, so both users see
 * the same 60 digits. The QR form carries the first 32 bytes of each side's hash.
 *
 * SecureChat's instance uses the USK (not device keys, so adding a device does not change the
 * number), encoded as `0x65 || ed25519_pub` (our own type byte; Signal uses 0x05 for Curve25519),
 * and the immutable 16-byte user id as the stable id. The same code reproduces libsignal's
 * published vector when given Signal's key encoding and ids, which a test checks.
 *
 * What it protects: a server that served different USKs to two users (a machine-in-the-middle)
 * makes their numbers differ. What it does not: users who never compare numbers are protected
 * only by trust on first use.
 *
 * @module
 */
import { Reader, Writer, checkBytes, checkInt, concatBytes, type Bytes } from './encoding.ts';
import { InvalidInputError } from './errors.ts';
import { ID_LENGTH } from './identity.ts';
import { ctEqual, sha512 } from './primitives.ts';

/** Type byte prepended to an Ed25519 USK in the fingerprint input. */
export const USK_KEY_TYPE = 0x65;
/** SHA-512 rounds per side (Signal's value). */
export const FINGERPRINT_ITERATIONS = 5200;
/** Version byte of the QR payload. */
export const FINGERPRINT_QR_VERSION = 1;

/**
 * One side's iterated hash (64 bytes) of Signal's algorithm, for any key encoding and stable id.
 * Exposed so the implementation can be checked against libsignal's vectors.
 */
export async function fingerprintHash(
  encodedKey: Uint8Array,
  stableId: Uint8Array,
  iterations: number = FINGERPRINT_ITERATIONS,
): Promise<Bytes> {
  checkBytes(encodedKey, 'encodedKey');
  checkBytes(stableId, 'stableId');
  checkInt(iterations, 'iterations', 2, 1_000_000);
  let hash = await sha512(concatBytes(Uint8Array.of(0, 0), encodedKey, stableId, encodedKey));
  for (let i = 1; i < iterations; i++) hash = await sha512(concatBytes(hash, encodedKey));
  return hash;
}

/** The 30 display digits of one side. */
function displayDigits(hash: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    // 5 bytes = 40 bits: exact in a double.
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + hash[i + j]!;
    out += String(n % 100000).padStart(5, '0');
  }
  return out;
}

/**
 * Signal's displayable fingerprint from two sides' hashes: each side's 30 digits, the smaller
 * string first, so both parties compute the same 60 digits.
 */
export function combineFingerprints(localHash: Uint8Array, remoteHash: Uint8Array): string {
  checkBytes(localHash, 'localHash');
  checkBytes(remoteHash, 'remoteHash');
  if (localHash.length < 32 || remoteHash.length < 32)
    throw new InvalidInputError('fingerprint hashes must be at least 32 bytes');
  const a = displayDigits(localHash);
  const b = displayDigits(remoteHash);
  return a < b ? a + b : b + a;
}

function encodeUsk(uskPublicKey: Uint8Array): Bytes {
  checkBytes(uskPublicKey, 'USK public key', 32);
  return concatBytes(Uint8Array.of(USK_KEY_TYPE), uskPublicKey);
}

/**
 * The 60-digit safety number between two users, identical whichever side computes it. Show it
 * in 12 groups of 5 digits.
 */
export async function safetyNumber(
  myUsk: Uint8Array,
  myUserId: Uint8Array,
  theirUsk: Uint8Array,
  theirUserId: Uint8Array,
): Promise<string> {
  checkBytes(myUserId, 'myUserId', ID_LENGTH);
  checkBytes(theirUserId, 'theirUserId', ID_LENGTH);
  const [mine, theirs] = await Promise.all([
    fingerprintHash(encodeUsk(myUsk), myUserId),
    fingerprintHash(encodeUsk(theirUsk), theirUserId),
  ]);
  return combineFingerprints(mine, theirs);
}

/**
 * The payload to show as a QR code: `version u8 (=1) | my_fingerprint[32] | their_fingerprint[32]`
 * (each the first 32 bytes of that side's hash).
 */
export async function safetyNumberQrPayload(
  myUsk: Uint8Array,
  myUserId: Uint8Array,
  theirUsk: Uint8Array,
  theirUserId: Uint8Array,
): Promise<Bytes> {
  checkBytes(myUserId, 'myUserId', ID_LENGTH);
  checkBytes(theirUserId, 'theirUserId', ID_LENGTH);
  const [mine, theirs] = await Promise.all([
    fingerprintHash(encodeUsk(myUsk), myUserId),
    fingerprintHash(encodeUsk(theirUsk), theirUserId),
  ]);
  return new Writer()
    .u8(FINGERPRINT_QR_VERSION)
    .fixed(mine.subarray(0, 32), 32)
    .fixed(theirs.subarray(0, 32), 32)
    .finish();
}

/**
 * Check a QR payload scanned from the other user's screen against my own: their "mine" must be
 * my "theirs" and vice versa (compared in constant time). A malformed payload or another version
 * throws {@link InvalidInputError}; a mismatch returns `false`.
 */
export function verifySafetyNumberQr(myPayload: Uint8Array, scannedPayload: Uint8Array): boolean {
  const parse = (bytes: Uint8Array, label: string) => {
    const r = new Reader(bytes, label);
    if (r.u8('version') !== FINGERPRINT_QR_VERSION)
      throw new InvalidInputError(`${label}: unknown version`);
    const mine = r.fixed(32, 'local fingerprint');
    const theirs = r.fixed(32, 'remote fingerprint');
    r.end();
    return { mine, theirs };
  };
  const me = parse(myPayload, 'my payload');
  const them = parse(scannedPayload, 'scanned payload');
  // Evaluate both comparisons so timing does not reveal which half differed.
  const a = ctEqual(me.mine, them.theirs);
  const b = ctEqual(me.theirs, them.mine);
  return a && b;
}
