/**
 * Identity (§3.2): the user signing key (USK), device keys, device certificates and device lists,
 * plus trust-on-first-use pinning of a contact's USK.
 *
 * What this protects: the server stores and serves device lists but cannot forge them. A device
 * appears in a contact's list only if that contact's USK signed both its certificate and the list;
 * a list can only move forward (strictly increasing `list_version`, each naming the SHA-256 of the
 * previous list's signed body in `prev_hash`), so the server cannot roll back to a list that still
 * contains a revoked device, and cannot show two different lists under one version to one client.
 *
 * What it does not protect: the first fetch of a contact's USK is trusted (TOFU). A server that
 * lies on first contact is caught only by comparing safety numbers (`fingerprint.ts`). A server can
 * also withhold new lists (freeze a client on an old version); that is an availability attack.
 *
 * Byte layouts (all integers big-endian; see README for the full table):
 * - DeviceCertTBS = v u8 (=1) | user_id[16] | device_id[16] | dsk_pub[32] | created_at_ms u64 |
 *   display_name: u16 length + UTF-8 (at most 256 bytes)
 * - DeviceCert    = DeviceCertTBS | signature[64]
 * - DeviceListTBS = v u8 (=1) | user_id[16] | list_version u64 | prev_hash[32] |
 *   u32 count | count × (u32 length + DeviceCert) | u32 count | count × device_id[16]
 * - DeviceList    = DeviceListTBS | signature[64]
 *
 * @module
 */
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  checkList,
  checkString,
  compareBytes,
  concatBytes,
  MAX_U64,
  toHex,
  utf8Encode,
  type Bytes,
} from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { KDF_LABELS, SIG_LABELS } from './labels.ts';
import {
  checkEd25519PublicKey,
  ctEqual,
  ed25519Sign,
  ed25519Verify,
  exportPkcs8,
  generateEd25519KeyPair,
  importEd25519PrivateKey,
  randomBytes,
  sha256,
  type KeyPair,
} from './primitives.ts';

/** Protocol version written into every v1 structure. */
export const PROTOCOL_VERSION = 1;
/** Length of user, device, conversation, file and client-message ids. */
export const ID_LENGTH = 16;
/** Maximum UTF-8 length of a device display name. */
export const MAX_DISPLAY_NAME_BYTES = 256;
/** Maximum number of certificates in one device list. */
export const MAX_DEVICES = 256;
/** Maximum number of revoked device ids one list carries. */
export const MAX_REVOKED = 4096;

/** A user's signing key (Ed25519). The private key is non-extractable once imported for use. */
export type UserSigningKey = KeyPair;

/** One device's long-term keys: its id and its device signing key (DSK, Ed25519, non-extractable). */
export interface DeviceKeys {
  /** The owning user's 16-byte id. */
  userId: Bytes;
  /** This device's random 16-byte id. */
  deviceId: Bytes;
  /** The DSK. */
  signing: KeyPair;
}

/** The signed body of a device certificate. */
export interface DeviceCertBody {
  userId: Bytes;
  deviceId: Bytes;
  /** The device's Ed25519 DSK public key. */
  dskPublicKey: Bytes;
  createdAtMs: number;
  /** Shown to contacts; public to the server. Up to 256 bytes of UTF-8. */
  displayName: string;
}

/** A device certificate: the body and the USK's signature over it. */
export interface DeviceCert extends DeviceCertBody {
  signature: Bytes;
}

/** The signed body of a device list. */
export interface DeviceListBody {
  userId: Bytes;
  /** Strictly increasing; 1 for the first list. */
  listVersion: number;
  /** {@link deviceListHash} of the previous list; 32 zero bytes for version 1. */
  prevHash: Bytes;
  /** Current devices, sorted by device id. */
  certs: DeviceCert[];
  /** Device ids removed so far, sorted. */
  revokedDeviceIds: Bytes[];
}

/** A device list: the body and the USK's signature over it. */
export interface DeviceList extends DeviceListBody {
  signature: Bytes;
}

/**
 * What a client remembers about a contact (or itself) between fetches: the pinned USK and the
 * newest list it has accepted. Store it; pass it to {@link verifyDeviceListUpdate}.
 */
export interface PinnedIdentity {
  userId: Bytes;
  uskPublicKey: Bytes;
  listVersion: number;
  listHash: Bytes;
}

/** A device of a verified list. */
export interface VerifiedDevice {
  deviceId: Bytes;
  /** DSK public key, to verify this device's envelopes, rosters and messages. */
  signingPublicKey: Bytes;
  displayName: string;
  createdAtMs: number;
}

/** The result of verifying a device list: the new pin and the devices it vouches for. */
export interface VerifiedDeviceList {
  pin: PinnedIdentity;
  devices: VerifiedDevice[];
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * Create a new user signing key. Returns the key for use (private part non-extractable) and its
 * PKCS#8 encoding, which the caller must immediately seal into secret storage (`sealSecret`) and
 * then drop: it is the user's root of trust.
 */
export async function generateUserSigningKey(): Promise<{ usk: UserSigningKey; pkcs8: Bytes }> {
  const extractable = await generateEd25519KeyPair(true);
  const pkcs8 = await exportPkcs8(extractable.privateKey);
  const usk = await importEd25519PrivateKey(pkcs8, false);
  return { usk, pkcs8 };
}

/** Re-import a USK from its PKCS#8 bytes (from secret storage or a provisioning bundle), non-extractable. */
export function importUserSigningKey(pkcs8: Uint8Array): Promise<UserSigningKey> {
  return importEd25519PrivateKey(pkcs8, false);
}

/** Create keys for a new device of `userId`: a random 16-byte device id and a non-extractable DSK. */
export async function createDeviceKeys(userId: Uint8Array): Promise<DeviceKeys> {
  checkBytes(userId, 'userId', ID_LENGTH);
  return {
    userId: Uint8Array.from(userId),
    deviceId: randomBytes(ID_LENGTH),
    signing: await generateEd25519KeyPair(false),
  };
}

/**
 * The USK fingerprint stored in rosters: SHA-256("securechat/v1/usk-fpr" || usk_pub). Binds a
 * roster member to one exact identity key, so a roster cannot be replayed after a key reset.
 */
export function uskFingerprint(uskPublicKey: Uint8Array): Promise<Bytes> {
  checkBytes(uskPublicKey, 'uskPublicKey', 32);
  return sha256(concatBytes(KDF_LABELS.uskFingerprint, uskPublicKey));
}

/** Check a {@link KeyPair} shape (used for the USK and DSK arguments). */
export function checkSigningKey(key: unknown, label: string): asserts key is KeyPair {
  const k = key as KeyPair | undefined;
  if (
    !k ||
    !(k.privateKey instanceof CryptoKey) ||
    k.privateKey.algorithm.name !== 'Ed25519' ||
    k.privateKey.type !== 'private'
  ) {
    throw new InvalidInputError(`${label} must have an Ed25519 private CryptoKey`);
  }
  checkEd25519PublicKey(k.publicKey, `${label} public key`);
}

/** Check a {@link DeviceKeys} shape. */
export function checkDeviceKeys(device: unknown, label = 'device'): asserts device is DeviceKeys {
  const d = device as DeviceKeys | undefined;
  if (!d || typeof d !== 'object') throw new InvalidInputError(`${label} must be DeviceKeys`);
  checkBytes(d.userId, `${label}.userId`, ID_LENGTH);
  checkBytes(d.deviceId, `${label}.deviceId`, ID_LENGTH);
  checkSigningKey(d.signing, `${label}.signing`);
}

// ---------------------------------------------------------------------------------------------
// Device certificates

function checkDeviceCertBody(body: DeviceCertBody): void {
  if (!body || typeof body !== 'object')
    throw new InvalidInputError('device certificate must be an object');
  checkBytes(body.userId, 'userId', ID_LENGTH);
  checkBytes(body.deviceId, 'deviceId', ID_LENGTH);
  checkEd25519PublicKey(body.dskPublicKey, 'dskPublicKey');
  checkInt(body.createdAtMs, 'createdAtMs', 0, MAX_U64);
  checkString(body.displayName, 'displayName');
  if (utf8Encode(body.displayName, 'displayName').length > MAX_DISPLAY_NAME_BYTES) {
    throw new InvalidInputError(
      `displayName must be at most ${MAX_DISPLAY_NAME_BYTES} bytes of UTF-8`,
    );
  }
}

/** Canonical encoding of a certificate's signed body. */
export function encodeDeviceCertBody(body: DeviceCertBody): Bytes {
  checkDeviceCertBody(body);
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(body.userId, ID_LENGTH, 'userId')
    .fixed(body.deviceId, ID_LENGTH, 'deviceId')
    .fixed(body.dskPublicKey, 32, 'dskPublicKey')
    .u64(body.createdAtMs, 'createdAtMs')
    .str16(body.displayName, 'displayName')
    .finish();
}

/** Canonical encoding of a certificate: body then 64-byte signature. */
export function encodeDeviceCert(cert: DeviceCert): Bytes {
  checkBytes(cert?.signature, 'signature', 64);
  return concatBytes(encodeDeviceCertBody(cert), cert.signature);
}

function readDeviceCert(r: Reader): DeviceCert {
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError(`${r.what}: unknown version`);
  const userId = r.fixed(ID_LENGTH, 'userId');
  const deviceId = r.fixed(ID_LENGTH, 'deviceId');
  const dskPublicKey = r.fixed(32, 'dskPublicKey');
  const createdAtMs = r.u64('createdAtMs');
  const displayName = r.str16('displayName', MAX_DISPLAY_NAME_BYTES);
  const signature = r.fixed(64, 'signature');
  return { userId, deviceId, dskPublicKey, createdAtMs, displayName, signature };
}

/** Strictly decode a certificate (unknown version, truncation or trailing bytes throw). */
export function decodeDeviceCert(bytes: Uint8Array): DeviceCert {
  const r = new Reader(bytes, 'device certificate');
  const cert = readDeviceCert(r);
  r.end();
  return cert;
}

/** Sign a device certificate with the USK (label `securechat/v1/device-cert`). */
export async function signDeviceCert(
  usk: UserSigningKey,
  body: DeviceCertBody,
): Promise<DeviceCert> {
  checkSigningKey(usk, 'usk');
  const tbs = encodeDeviceCertBody(body);
  const signature = await ed25519Sign(usk.privateKey, concatBytes(SIG_LABELS.deviceCert, tbs));
  return { ...copyCertBody(body), signature };
}

/**
 * Verify a certificate against a USK public key. Throws {@link AuthenticationError} if the
 * signature does not verify or the certificate is malformed (e.g. a small-order DSK).
 */
export async function verifyDeviceCert(cert: DeviceCert, uskPublicKey: Uint8Array): Promise<void> {
  let tbs: Bytes;
  try {
    tbs = encodeDeviceCertBody(cert);
    checkBytes(cert.signature, 'signature', 64);
  } catch {
    throw new AuthenticationError();
  }
  if (
    !(await ed25519Verify(uskPublicKey, concatBytes(SIG_LABELS.deviceCert, tbs), cert.signature))
  ) {
    throw new AuthenticationError();
  }
}

function copyCertBody(b: DeviceCertBody): DeviceCertBody {
  return {
    userId: Uint8Array.from(b.userId),
    deviceId: Uint8Array.from(b.deviceId),
    dskPublicKey: Uint8Array.from(b.dskPublicKey),
    createdAtMs: b.createdAtMs,
    displayName: b.displayName,
  };
}

// ---------------------------------------------------------------------------------------------
// Device names

/** A name the user gave one of their devices after adding it (the first is in its certificate). */
export interface DeviceNameBody {
  userId: Bytes;
  deviceId: Bytes;
  name: string;
  renamedAtMs: number;
}

function encodeDeviceNameBody(body: DeviceNameBody): Bytes {
  if (!body || typeof body !== 'object')
    throw new InvalidInputError('device name must be an object');
  checkBytes(body.userId, 'userId', ID_LENGTH);
  checkBytes(body.deviceId, 'deviceId', ID_LENGTH);
  checkInt(body.renamedAtMs, 'renamedAtMs', 0, MAX_U64);
  checkString(body.name, 'name');
  if (utf8Encode(body.name, 'name').length > MAX_DISPLAY_NAME_BYTES)
    throw new InvalidInputError(`name must be at most ${MAX_DISPLAY_NAME_BYTES} bytes of UTF-8`);
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(body.userId, ID_LENGTH, 'userId')
    .fixed(body.deviceId, ID_LENGTH, 'deviceId')
    .u64(body.renamedAtMs, 'renamedAtMs')
    .str16(body.name, 'name')
    .finish();
}

/**
 * Sign a device's new name with the USK (label `securechat/v1/device-name`), so the server can
 * store and return it but not change it. Output: the body then a 64-byte signature.
 */
export async function signDeviceName(usk: UserSigningKey, body: DeviceNameBody): Promise<Bytes> {
  checkSigningKey(usk, 'usk');
  const tbs = encodeDeviceNameBody(body);
  const signature = await ed25519Sign(usk.privateKey, concatBytes(SIG_LABELS.deviceName, tbs));
  return concatBytes(tbs, signature);
}

/**
 * Decode a signed device name and verify it against the USK public key. Throws
 * {@link AuthenticationError} if it is malformed or the signature does not verify. It does not
 * prove the name is the newest: a server can return an older signed name of the same device, so
 * callers compare `deviceId` and may keep the latest `renamedAtMs` they have seen.
 */
export async function openDeviceName(
  signed: Uint8Array,
  uskPublicKey: Uint8Array,
): Promise<DeviceNameBody> {
  let body: DeviceNameBody;
  let tbs: Bytes;
  let signature: Bytes;
  try {
    checkBytes(signed, 'signed');
    const r = new Reader(signed, 'device name');
    if (r.u8('version') !== PROTOCOL_VERSION) throw new InvalidInputError('unknown version');
    body = {
      userId: r.fixed(ID_LENGTH, 'userId'),
      deviceId: r.fixed(ID_LENGTH, 'deviceId'),
      renamedAtMs: r.u64('renamedAtMs'),
      name: r.str16('name', MAX_DISPLAY_NAME_BYTES),
    };
    signature = r.fixed(64, 'signature');
    r.end();
    tbs = Uint8Array.from(signed.subarray(0, signed.length - 64));
  } catch {
    throw new AuthenticationError();
  }
  if (!(await ed25519Verify(uskPublicKey, concatBytes(SIG_LABELS.deviceName, tbs), signature)))
    throw new AuthenticationError();
  return body;
}

// ---------------------------------------------------------------------------------------------
// Device lists

function checkSortedUnique(items: Uint8Array[], label: string): void {
  for (let i = 1; i < items.length; i++) {
    if (compareBytes(items[i - 1]!, items[i]!) >= 0) {
      throw new InvalidInputError(`${label} must be sorted and without duplicates`);
    }
  }
}

function checkDeviceListBody(body: DeviceListBody): void {
  if (!body || typeof body !== 'object')
    throw new InvalidInputError('device list must be an object');
  checkBytes(body.userId, 'userId', ID_LENGTH);
  checkInt(body.listVersion, 'listVersion', 1, MAX_U64);
  checkBytes(body.prevHash, 'prevHash', 32);
  checkList<DeviceCert>(body.certs, 'certs', MAX_DEVICES);
  checkList<Bytes>(body.revokedDeviceIds, 'revokedDeviceIds', MAX_REVOKED);
  for (const id of body.revokedDeviceIds) checkBytes(id, 'revoked device id', ID_LENGTH);
  for (const cert of body.certs) checkBytes(cert?.deviceId, 'cert deviceId', ID_LENGTH);
  checkSortedUnique(
    body.certs.map((c) => c.deviceId),
    'certs (by device id)',
  );
  checkSortedUnique(body.revokedDeviceIds, 'revokedDeviceIds');
  const revoked = new Set(body.revokedDeviceIds.map((id) => toHex(id)));
  for (const cert of body.certs) {
    if (revoked.has(toHex(cert.deviceId)))
      throw new InvalidInputError('a revoked device must not have a certificate');
  }
  if (body.listVersion === 1 && !body.prevHash.every((b) => b === 0)) {
    throw new InvalidInputError('prevHash of the first list must be 32 zero bytes');
  }
}

/** Canonical encoding of a device list's signed body. Lists must already be in canonical order. */
export function encodeDeviceListBody(body: DeviceListBody): Bytes {
  checkDeviceListBody(body);
  const w = new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(body.userId, ID_LENGTH, 'userId')
    .u64(body.listVersion, 'listVersion')
    .fixed(body.prevHash, 32, 'prevHash')
    .u32(body.certs.length);
  for (const cert of body.certs) w.vec32(encodeDeviceCert(cert), 'cert');
  w.u32(body.revokedDeviceIds.length);
  for (const id of body.revokedDeviceIds) w.fixed(id, ID_LENGTH, 'revoked device id');
  return w.finish();
}

/** Canonical encoding of a device list: body then 64-byte signature. */
export function encodeDeviceList(list: DeviceList): Bytes {
  checkBytes(list?.signature, 'signature', 64);
  return concatBytes(encodeDeviceListBody(list), list.signature);
}

/** Strictly decode a device list. Structure is checked; signatures are not (see the verify functions). */
export function decodeDeviceList(bytes: Uint8Array): DeviceList {
  const r = new Reader(bytes, 'device list');
  if (r.u8('version') !== PROTOCOL_VERSION)
    throw new InvalidInputError('device list: unknown version');
  const userId = r.fixed(ID_LENGTH, 'userId');
  const listVersion = r.u64('listVersion');
  const prevHash = r.fixed(32, 'prevHash');
  const certCount = r.u32('cert count');
  if (certCount > MAX_DEVICES) throw new InvalidInputError('device list: too many certs');
  const certs: DeviceCert[] = [];
  for (let i = 0; i < certCount; i++) certs.push(decodeDeviceCert(r.vec32('cert', 4096)));
  const revokedCount = r.u32('revoked count');
  if (revokedCount > MAX_REVOKED) throw new InvalidInputError('device list: too many revoked ids');
  const revokedDeviceIds: Bytes[] = [];
  for (let i = 0; i < revokedCount; i++)
    revokedDeviceIds.push(r.fixed(ID_LENGTH, 'revoked device id'));
  const signature = r.fixed(64, 'signature');
  r.end();
  const list = { userId, listVersion, prevHash, certs, revokedDeviceIds, signature };
  checkDeviceListBody(list);
  return list;
}

/** SHA-256 of a list's canonical signed body: what the next list's `prevHash` must name. */
export function deviceListHash(list: DeviceListBody): Promise<Bytes> {
  return sha256(encodeDeviceListBody(list));
}

/** Sign a device list body with the USK. Certs and revoked ids are sorted into canonical order first. */
export async function signDeviceList(
  usk: UserSigningKey,
  body: DeviceListBody,
): Promise<DeviceList> {
  checkSigningKey(usk, 'usk');
  const canonical: DeviceListBody = {
    userId: Uint8Array.from(body.userId ?? []),
    listVersion: body.listVersion,
    prevHash: Uint8Array.from(body.prevHash ?? []),
    certs: [...(body.certs ?? [])].sort((a, b) => compareBytes(a.deviceId, b.deviceId)),
    revokedDeviceIds: [...(body.revokedDeviceIds ?? [])].sort(compareBytes),
  };
  const tbs = encodeDeviceListBody(canonical);
  const signature = await ed25519Sign(usk.privateKey, concatBytes(SIG_LABELS.deviceList, tbs));
  return { ...canonical, signature };
}

/** Create and sign a user's first device list (version 1) holding `certs`. */
export function createDeviceList(
  usk: UserSigningKey,
  userId: Uint8Array,
  certs: DeviceCert[],
): Promise<DeviceList> {
  return signDeviceList(usk, {
    userId: Uint8Array.from(userId),
    listVersion: 1,
    prevHash: new Uint8Array(32),
    certs,
    revokedDeviceIds: [],
  });
}

/**
 * Create and sign the successor of `previous`: version + 1, `prevHash` = hash of `previous`,
 * with `add` certificates added and `revoke` device ids removed and recorded as revoked.
 * Revocation is permanent: a revoked id cannot be added back.
 */
export async function nextDeviceList(
  usk: UserSigningKey,
  previous: DeviceList,
  changes: { add?: DeviceCert[]; revoke?: Uint8Array[] },
): Promise<DeviceList> {
  const revokeIds = (changes.revoke ?? []).map((id) => {
    checkBytes(id, 'revoke id', ID_LENGTH);
    return Uint8Array.from(id);
  });
  const revokedKeys = new Set([...previous.revokedDeviceIds, ...revokeIds].map((id) => toHex(id)));
  const certs = previous.certs.filter((c) => !revokedKeys.has(toHex(c.deviceId)));
  for (const cert of changes.add ?? []) {
    if (revokedKeys.has(toHex(cert.deviceId)))
      throw new InvalidInputError('a revoked device id cannot be added back');
    if (certs.some((c) => ctEqual(c.deviceId, cert.deviceId)))
      throw new InvalidInputError('device is already in the list');
    certs.push(cert);
  }
  const revokedDeviceIds = [...previous.revokedDeviceIds];
  for (const id of revokeIds)
    if (!revokedDeviceIds.some((r) => ctEqual(r, id))) revokedDeviceIds.push(id);
  return signDeviceList(usk, {
    userId: previous.userId,
    listVersion: previous.listVersion + 1,
    prevHash: await deviceListHash(previous),
    certs,
    revokedDeviceIds,
  });
}

/**
 * Check a list's signature, and each certificate's, against `uskPublicKey`; return the devices.
 * Does not look at history: callers use {@link trustOnFirstUse} or {@link verifyDeviceListUpdate}.
 */
async function verifyListSignatures(
  list: DeviceList,
  uskPublicKey: Uint8Array,
): Promise<{ hash: Bytes; devices: VerifiedDevice[] }> {
  let tbs: Bytes;
  try {
    tbs = encodeDeviceListBody(list);
    checkBytes(list.signature, 'signature', 64);
  } catch {
    throw new AuthenticationError();
  }
  if (
    !(await ed25519Verify(uskPublicKey, concatBytes(SIG_LABELS.deviceList, tbs), list.signature))
  ) {
    throw new AuthenticationError();
  }
  const devices: VerifiedDevice[] = [];
  for (const cert of list.certs) {
    // Each device needs its own USK signature: a list signature alone does not vouch for a
    // device key, so a device cannot be slipped in by reusing an unrelated signed certificate.
    if (!ctEqual(cert.userId, list.userId)) throw new AuthenticationError();
    await verifyDeviceCert(cert, uskPublicKey);
    devices.push({
      deviceId: Uint8Array.from(cert.deviceId),
      signingPublicKey: Uint8Array.from(cert.dskPublicKey),
      displayName: cert.displayName,
      createdAtMs: cert.createdAtMs,
    });
  }
  return { hash: await sha256(tbs), devices };
}

/**
 * First contact with a user (TOFU): accept `uskPublicKey` as served, provided `list` is a valid
 * list of `userId` signed by it. Returns the pin to store. Only call this when nothing is pinned
 * for `userId` yet, or after the user explicitly accepted a changed safety number.
 */
export async function trustOnFirstUse(
  userId: Uint8Array,
  uskPublicKey: Uint8Array,
  list: DeviceList,
): Promise<VerifiedDeviceList> {
  checkBytes(userId, 'userId', ID_LENGTH);
  checkEd25519PublicKey(uskPublicKey, 'uskPublicKey');
  if (!(list?.userId instanceof Uint8Array) || !ctEqual(list.userId, userId))
    throw new AuthenticationError();
  const { hash, devices } = await verifyListSignatures(list, uskPublicKey);
  return {
    pin: {
      userId: Uint8Array.from(userId),
      uskPublicKey: Uint8Array.from(uskPublicKey),
      listVersion: list.listVersion,
      listHash: hash,
    },
    devices,
  };
}

/**
 * Verify a list (or a run of consecutive lists, oldest first) against a pinned identity and
 * return the new pin and the newest list's devices. Rejected with {@link AuthenticationError}:
 * - a list not signed by the pinned USK, or with a certificate not signed by it;
 * - a rollback (version below the pinned one);
 * - a different list under the pinned version (equivocation);
 * - a list whose `prevHash` is not the hash of its predecessor (the pinned list or the previous
 *   element), including a jump over versions the caller did not supply.
 * Re-presenting exactly the pinned list is accepted and changes nothing.
 */
export async function verifyDeviceListUpdate(
  pinned: PinnedIdentity,
  lists: DeviceList | DeviceList[],
): Promise<VerifiedDeviceList> {
  checkPin(pinned);
  const chain = Array.isArray(lists) ? lists : [lists];
  if (chain.length === 0) throw new InvalidInputError('lists must not be empty');
  let pin = pinned;
  let devices: VerifiedDevice[] | undefined;
  for (const list of chain) {
    if (!(list?.userId instanceof Uint8Array) || !ctEqual(list.userId, pin.userId))
      throw new AuthenticationError();
    const verified = await verifyListSignatures(list, pin.uskPublicKey);
    if (list.listVersion === pin.listVersion) {
      if (!ctEqual(verified.hash, pin.listHash)) throw new AuthenticationError();
    } else if (list.listVersion === pin.listVersion + 1) {
      if (!ctEqual(list.prevHash, pin.listHash)) throw new AuthenticationError();
    } else {
      throw new AuthenticationError();
    }
    pin = { ...pin, listVersion: list.listVersion, listHash: verified.hash };
    devices = verified.devices;
  }
  return { pin, devices: devices! };
}

function checkPin(pin: PinnedIdentity): void {
  if (!pin || typeof pin !== 'object')
    throw new InvalidInputError('pinned must be a PinnedIdentity');
  checkBytes(pin.userId, 'pinned.userId', ID_LENGTH);
  checkEd25519PublicKey(pin.uskPublicKey, 'pinned.uskPublicKey');
  checkInt(pin.listVersion, 'pinned.listVersion', 1, MAX_U64);
  checkBytes(pin.listHash, 'pinned.listHash', 32);
}

// ---------------------------------------------------------------------------------------------
// Directory of verified devices

/**
 * Read-only view of verified identities, used by roster and message verification to resolve
 * "is this device in the current USK-signed list of this user, and what is its DSK?".
 */
export interface DeviceDirectory {
  /** The pinned USK public key of `userId`, if known. */
  userKey(userId: Uint8Array): Bytes | undefined;
  /** The DSK public key of a current (non-revoked) device, if listed. */
  deviceKey(userId: Uint8Array, deviceId: Uint8Array): Bytes | undefined;
}

/** Build a {@link DeviceDirectory} from verified device lists (one per user; later entries win). */
export function createDeviceDirectory(lists: VerifiedDeviceList[]): DeviceDirectory {
  checkList<VerifiedDeviceList>(lists, 'lists', 1 << 20);
  const users = new Map<string, Bytes>();
  const devices = new Map<string, Bytes>();
  for (const list of lists) {
    const user = toHex(list.pin.userId);
    users.set(user, Uint8Array.from(list.pin.uskPublicKey));
    for (const [key] of devices) if (key.startsWith(`${user}/`)) devices.delete(key);
    for (const d of list.devices)
      devices.set(`${user}/${toHex(d.deviceId)}`, Uint8Array.from(d.signingPublicKey));
  }
  return {
    userKey: (userId) => users.get(toHex(userId)),
    deviceKey: (userId, deviceId) => devices.get(`${toHex(userId)}/${toHex(deviceId)}`),
  };
}
