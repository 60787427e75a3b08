/**
 * Prekeys (§3.2): each device publishes X25519 keys that others seal envelopes to while it is
 * offline. A signed prekey (SPK) is rotated every 7 days and its private key deleted 14 days after
 * rotation; one-time prekeys (OPKs) are uploaded in batches of 100 and used once each.
 *
 * Every prekey, SPK or OPK, is signed by the device's DSK over its kind, owner (user and device
 * id), id, public key and creation time. That stops the server from substituting its own key (it
 * would need the DSK) or moving a genuine prekey to another device or kind.
 *
 * What the rotation policy buys: forward secrecy for envelopes. An envelope sealed to an OPK
 * becomes undecryptable once that OPK's private key is deleted after first use; one sealed to an
 * SPK once the SPK is deleted, at most about 21 days after it was published.
 *
 * Byte layout: PrekeyTBS = v u8 (=1) | kind u8 (1 = spk, 2 = opk) | user_id[16] | device_id[16] |
 * prekey_id u32 | public_key[32] | created_at_ms u64; PublicPrekey = PrekeyTBS | signature[64].
 *
 * @module
 */
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  concatBytes,
  MAX_U64,
  type Bytes,
} from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { checkDeviceKeys, ID_LENGTH, PROTOCOL_VERSION, type DeviceKeys } from './identity.ts';
import { SIG_LABELS } from './labels.ts';
import { ctEqual, ed25519Sign, ed25519Verify, generateX25519KeyPair } from './primitives.ts';

/** Signed prekey (rotated weekly) or one-time prekey (used once). */
export type PrekeyKind = 'spk' | 'opk';

const KIND_CODE: Record<PrekeyKind, number> = { spk: 1, opk: 2 };

/** A prekey as published: what the server stores and hands out. */
export interface PublicPrekey {
  kind: PrekeyKind;
  userId: Bytes;
  deviceId: Bytes;
  prekeyId: number;
  /** Raw X25519 public key. */
  publicKey: Bytes;
  createdAtMs: number;
  /** DSK signature over the encoded fields. */
  signature: Bytes;
}

/** A prekey as the owning device keeps it: the public part plus the non-extractable private key. */
export interface PrivatePrekey extends PublicPrekey {
  privateKey: CryptoKey;
}

/** The rotation policy (§3.2). */
export const PREKEY_POLICY = {
  /** Publish a new SPK when the current one is this old. */
  spkRotationMs: 7 * 24 * 60 * 60 * 1000,
  /** Delete a rotated-out SPK's private key this long after it was replaced. */
  spkGraceMs: 14 * 24 * 60 * 60 * 1000,
  /** OPKs are uploaded in batches of this size. */
  opkBatchSize: 100,
  /** Upload a new batch when fewer than this many OPKs remain unused on the server. */
  opkLowWater: 25,
} as const;

function checkPublicPrekeyFields(p: Omit<PublicPrekey, 'signature'>): void {
  if (!p || typeof p !== 'object') throw new InvalidInputError('prekey must be an object');
  if (p.kind !== 'spk' && p.kind !== 'opk')
    throw new InvalidInputError("prekey kind must be 'spk' or 'opk'");
  checkBytes(p.userId, 'userId', ID_LENGTH);
  checkBytes(p.deviceId, 'deviceId', ID_LENGTH);
  checkInt(p.prekeyId, 'prekeyId', 0, 0xffffffff);
  checkBytes(p.publicKey, 'prekey publicKey', 32);
  checkInt(p.createdAtMs, 'createdAtMs', 0, MAX_U64);
}

/** Canonical encoding of the fields a prekey signature covers. */
export function encodePrekeyBody(p: Omit<PublicPrekey, 'signature'>): Bytes {
  checkPublicPrekeyFields(p);
  return new Writer()
    .u8(PROTOCOL_VERSION)
    .u8(KIND_CODE[p.kind])
    .fixed(p.userId, ID_LENGTH, 'userId')
    .fixed(p.deviceId, ID_LENGTH, 'deviceId')
    .u32(p.prekeyId, 'prekeyId')
    .fixed(p.publicKey, 32, 'publicKey')
    .u64(p.createdAtMs, 'createdAtMs')
    .finish();
}

/** Canonical encoding of a published prekey (body then signature). */
export function encodePublicPrekey(p: PublicPrekey): Bytes {
  checkBytes(p?.signature, 'signature', 64);
  return concatBytes(encodePrekeyBody(p), p.signature);
}

/** Strictly decode a published prekey. The signature is not checked here: use {@link verifyPrekey}. */
export function decodePublicPrekey(bytes: Uint8Array): PublicPrekey {
  const r = new Reader(bytes, 'prekey');
  if (r.u8('version') !== PROTOCOL_VERSION) throw new InvalidInputError('prekey: unknown version');
  const code = r.u8('kind');
  const kind = code === 1 ? 'spk' : code === 2 ? 'opk' : undefined;
  if (!kind) throw new InvalidInputError('prekey: unknown kind');
  const p: PublicPrekey = {
    kind,
    userId: r.fixed(ID_LENGTH, 'userId'),
    deviceId: r.fixed(ID_LENGTH, 'deviceId'),
    prekeyId: r.u32('prekeyId'),
    publicKey: r.fixed(32, 'publicKey'),
    createdAtMs: r.u64('createdAtMs'),
    signature: r.fixed(64, 'signature'),
  };
  r.end();
  return p;
}

async function createPrekey(
  device: DeviceKeys,
  kind: PrekeyKind,
  prekeyId: number,
  nowMs: number,
): Promise<PrivatePrekey> {
  const pair = await generateX25519KeyPair(false);
  const body = {
    kind,
    userId: Uint8Array.from(device.userId),
    deviceId: Uint8Array.from(device.deviceId),
    prekeyId,
    publicKey: pair.publicKey,
    createdAtMs: nowMs,
  };
  const signature = await ed25519Sign(
    device.signing.privateKey,
    concatBytes(SIG_LABELS.prekey, encodePrekeyBody(body)),
  );
  return { ...body, signature, privateKey: pair.privateKey };
}

/** Create a signed prekey for `device`, signed by its DSK. The private key is non-extractable. */
export function createSignedPrekey(
  device: DeviceKeys,
  prekeyId: number,
  nowMs: number = Date.now(),
): Promise<PrivatePrekey> {
  checkDeviceKeys(device);
  checkInt(prekeyId, 'prekeyId', 0, 0xffffffff);
  checkInt(nowMs, 'nowMs', 0, MAX_U64);
  return createPrekey(device, 'spk', prekeyId, nowMs);
}

/**
 * Create `count` one-time prekeys with consecutive ids starting at `firstPrekeyId`, each signed by
 * the DSK. `count` defaults to the policy's batch size (100) and is at most 1000.
 */
export async function createOneTimePrekeys(
  device: DeviceKeys,
  count: number = PREKEY_POLICY.opkBatchSize,
  firstPrekeyId = 0,
  nowMs: number = Date.now(),
): Promise<PrivatePrekey[]> {
  checkDeviceKeys(device);
  checkInt(count, 'count', 1, 1000);
  checkInt(firstPrekeyId, 'firstPrekeyId', 0, 0xffffffff - count + 1);
  checkInt(nowMs, 'nowMs', 0, MAX_U64);
  return Promise.all(
    Array.from({ length: count }, (_, i) => createPrekey(device, 'opk', firstPrekeyId + i, nowMs)),
  );
}

/** The publishable part of a prekey (drops the private key). */
export function publicPrekey(p: PublicPrekey): PublicPrekey {
  return {
    kind: p.kind,
    userId: Uint8Array.from(p.userId),
    deviceId: Uint8Array.from(p.deviceId),
    prekeyId: p.prekeyId,
    publicKey: Uint8Array.from(p.publicKey),
    createdAtMs: p.createdAtMs,
    signature: Uint8Array.from(p.signature),
  };
}

/**
 * Verify a fetched prekey before sealing to it: it must belong to `owner` (user and device id)
 * and be signed by that device's DSK public key (from a verified device list). Optionally refuse
 * prekeys older than `maxAgeMs` at `nowMs`. Throws {@link AuthenticationError}.
 */
export async function verifyPrekey(
  prekey: PublicPrekey,
  owner: { userId: Uint8Array; deviceId: Uint8Array; signingPublicKey: Uint8Array },
  options: { nowMs?: number; maxAgeMs?: number } = {},
): Promise<void> {
  checkBytes(owner?.userId, 'owner.userId', ID_LENGTH);
  checkBytes(owner.deviceId, 'owner.deviceId', ID_LENGTH);
  checkBytes(owner.signingPublicKey, 'owner.signingPublicKey', 32);
  let body: Bytes;
  try {
    body = encodePrekeyBody(prekey);
    checkBytes(prekey.signature, 'signature', 64);
  } catch {
    throw new AuthenticationError();
  }
  if (!ctEqual(prekey.userId, owner.userId) || !ctEqual(prekey.deviceId, owner.deviceId))
    throw new AuthenticationError();
  if (
    !(await ed25519Verify(
      owner.signingPublicKey,
      concatBytes(SIG_LABELS.prekey, body),
      prekey.signature,
    ))
  ) {
    throw new AuthenticationError();
  }
  if (options.maxAgeMs !== undefined) {
    const now = options.nowMs ?? Date.now();
    if (now - prekey.createdAtMs > options.maxAgeMs) throw new AuthenticationError();
  }
}

/** Inputs to {@link prekeyMaintenance}: what the device currently holds. */
export interface PrekeyInventory {
  /** The SPK currently published, if any. */
  currentSpk?: { prekeyId: number; createdAtMs: number };
  /** SPKs replaced by a newer one whose private keys are still kept, with when they were replaced. */
  retiredSpks: { prekeyId: number; retiredAtMs: number }[];
  /** OPKs uploaded and not yet claimed (as reported by the server). */
  unusedOpkCount: number;
}

/** What to do now, per the rotation policy. */
export interface PrekeyActions {
  /** Create and publish a new SPK, and retire the current one. */
  rotateSpk: boolean;
  /** Delete these retired SPKs' private keys (their 14-day grace has passed). */
  deleteSpkIds: number[];
  /** Create and upload this many OPKs (0 or a full batch). */
  opksToUpload: number;
}

/**
 * Apply the rotation policy to a device's prekey inventory at `nowMs`: rotate the SPK after 7
 * days, delete retired SPK private keys 14 days after rotation, top OPKs up in batches of 100
 * when fewer than 25 remain. Pure function: the caller performs the actions.
 */
export function prekeyMaintenance(
  inventory: PrekeyInventory,
  nowMs: number = Date.now(),
): PrekeyActions {
  if (!inventory || typeof inventory !== 'object')
    throw new InvalidInputError('inventory must be an object');
  checkInt(nowMs, 'nowMs', 0, MAX_U64);
  checkInt(inventory.unusedOpkCount, 'unusedOpkCount', 0, MAX_U64);
  const rotateSpk =
    !inventory.currentSpk ||
    nowMs - inventory.currentSpk.createdAtMs >= PREKEY_POLICY.spkRotationMs;
  const deleteSpkIds = (inventory.retiredSpks ?? [])
    .filter((s) => nowMs - s.retiredAtMs >= PREKEY_POLICY.spkGraceMs)
    .map((s) => s.prekeyId);
  const opksToUpload =
    inventory.unusedOpkCount < PREKEY_POLICY.opkLowWater ? PREKEY_POLICY.opkBatchSize : 0;
  return { rotateSpk, deleteSpkIds, opksToUpload };
}
