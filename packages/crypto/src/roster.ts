/**
 * Rosters and commits (§3.5): who is in a conversation in each epoch, who changed it, and how the
 * new epoch secret reaches every member device.
 *
 * A roster lists the members (user id and a fingerprint of their USK), the admins, flags, the
 * device that made the change and a hash of the previous roster. It is signed by the changing
 * device's DSK, and that device must be listed in the current USK-signed device list of a user who
 * was a member (an admin, when the roster has admins and the change adds or removes someone else
 * or changes the admins). So the server cannot add a member, remove one, or reorder history: it
 * holds no DSK, and `prev_roster_hash` chains each roster to its predecessor.
 *
 * `roster_hash = SHA-256(enc(Roster))` is the salt of the epoch's key schedule, so the keys
 * themselves depend on the exact membership.
 *
 * Roster layout: v u8 (=1) | conv_id[16] | epoch u32 | prev_roster_hash[32] |
 * u32 n | n × (user_id[16] | usk_fpr[32]) | u32 m | m × user_id[16] | flags u32 |
 * changed_by_user[16] | changed_by_device[16] | created_at_ms u64. SignedRoster = Roster | sig[64].
 * Members and admins are sorted by user id and unique; admins are members.
 *
 * @module
 */
import {
  Reader,
  Writer,
  checkBytes,
  checkInt,
  checkList,
  compareBytes,
  concatBytes,
  MAX_U64,
  toHex,
  type Bytes,
} from './encoding.ts';
import { AuthenticationError, InvalidInputError } from './errors.ts';
import { openEnvelope, peekEnvelopeHeader, sealEnvelope } from './envelope.ts';
import { decodeEpochSecretPayload, encodeEpochSecretPayload, EpochState } from './epoch.ts';
import {
  checkDeviceKeys,
  ID_LENGTH,
  PROTOCOL_VERSION,
  uskFingerprint,
  type DeviceDirectory,
  type DeviceKeys,
} from './identity.ts';
import { SIG_LABELS } from './labels.ts';
import { verifyPrekey, type PrivatePrekey, type PublicPrekey } from './prekeys.ts';
import { ctEqual, ed25519Sign, ed25519Verify, randomBytes, sha256 } from './primitives.ts';

/** Most members one conversation may have. */
export const MAX_MEMBERS = 1000;

/** Roster flag bits. Unknown bits are rejected. */
export const ROSTER_FLAGS = {
  /** Ephemeral conversation: devices discard `S_e` after deriving chains (§3.5). */
  ephemeral: 1,
} as const;
const KNOWN_FLAGS = ROSTER_FLAGS.ephemeral;

/** A roster member: user id and the fingerprint of the USK they had when added. */
export interface RosterMember {
  userId: Bytes;
  /** {@link uskFingerprint} of the member's USK. */
  uskFingerprint: Bytes;
}

/** A roster's signed body. */
export interface Roster {
  convId: Bytes;
  epoch: number;
  /** Hash of the previous roster; 32 zero bytes for epoch 0. */
  prevRosterHash: Bytes;
  /** Sorted by user id. */
  members: RosterMember[];
  /** Sorted user ids, each a member. Empty means every member may change membership. */
  admins: Bytes[];
  flags: number;
  changedByUser: Bytes;
  changedByDevice: Bytes;
  createdAtMs: number;
}

/** A roster with the changing device's DSK signature. */
export interface SignedRoster extends Roster {
  signature: Bytes;
}

function checkRoster(r: Roster): void {
  if (!r || typeof r !== 'object') throw new InvalidInputError('roster must be an object');
  checkBytes(r.convId, 'convId', ID_LENGTH);
  checkInt(r.epoch, 'epoch', 0, 0xffffffff);
  checkBytes(r.prevRosterHash, 'prevRosterHash', 32);
  checkList<RosterMember>(r.members, 'members', MAX_MEMBERS);
  if (r.members.length === 0) throw new InvalidInputError('members must not be empty');
  for (const m of r.members) {
    checkBytes(m?.userId, 'member userId', ID_LENGTH);
    checkBytes(m.uskFingerprint, 'member uskFingerprint', 32);
  }
  checkList<Bytes>(r.admins, 'admins', MAX_MEMBERS);
  for (const a of r.admins) checkBytes(a, 'admin', ID_LENGTH);
  for (let i = 1; i < r.members.length; i++) {
    if (compareBytes(r.members[i - 1]!.userId, r.members[i]!.userId) >= 0)
      throw new InvalidInputError('members must be sorted by user id and unique');
  }
  for (let i = 1; i < r.admins.length; i++) {
    if (compareBytes(r.admins[i - 1]!, r.admins[i]!) >= 0)
      throw new InvalidInputError('admins must be sorted and unique');
  }
  const ids = new Set(r.members.map((m) => toHex(m.userId)));
  for (const a of r.admins)
    if (!ids.has(toHex(a))) throw new InvalidInputError('every admin must be a member');
  checkInt(r.flags, 'flags', 0, 0xffffffff);
  if ((r.flags & ~KNOWN_FLAGS) !== 0) throw new InvalidInputError('flags has unknown bits');
  checkBytes(r.changedByUser, 'changedByUser', ID_LENGTH);
  checkBytes(r.changedByDevice, 'changedByDevice', ID_LENGTH);
  checkInt(r.createdAtMs, 'createdAtMs', 0, MAX_U64);
  if (r.epoch === 0 && !r.prevRosterHash.every((b) => b === 0))
    throw new InvalidInputError('prevRosterHash of epoch 0 must be zero');
}

/** Canonical encoding of a roster's signed body. */
export function encodeRoster(r: Roster): Bytes {
  checkRoster(r);
  const w = new Writer()
    .u8(PROTOCOL_VERSION)
    .fixed(r.convId, ID_LENGTH, 'convId')
    .u32(r.epoch, 'epoch')
    .fixed(r.prevRosterHash, 32, 'prevRosterHash')
    .u32(r.members.length);
  for (const m of r.members)
    w.fixed(m.userId, ID_LENGTH, 'member').fixed(m.uskFingerprint, 32, 'uskFingerprint');
  w.u32(r.admins.length);
  for (const a of r.admins) w.fixed(a, ID_LENGTH, 'admin');
  return w
    .u32(r.flags, 'flags')
    .fixed(r.changedByUser, ID_LENGTH, 'changedByUser')
    .fixed(r.changedByDevice, ID_LENGTH, 'changedByDevice')
    .u64(r.createdAtMs, 'createdAtMs')
    .finish();
}

/** Encoding of a signed roster: body then 64-byte signature. */
export function encodeSignedRoster(r: SignedRoster): Bytes {
  checkBytes(r?.signature, 'signature', 64);
  return concatBytes(encodeRoster(r), r.signature);
}

/** Strictly decode a signed roster (structure only; see {@link verifyRoster}). */
export function decodeSignedRoster(bytes: Uint8Array): SignedRoster {
  const rd = new Reader(bytes, 'roster');
  if (rd.u8('version') !== PROTOCOL_VERSION) throw new InvalidInputError('roster: unknown version');
  const convId = rd.fixed(ID_LENGTH, 'convId');
  const epoch = rd.u32('epoch');
  const prevRosterHash = rd.fixed(32, 'prevRosterHash');
  const n = rd.u32('member count');
  if (n > MAX_MEMBERS) throw new InvalidInputError('roster: too many members');
  const members: RosterMember[] = [];
  for (let i = 0; i < n; i++)
    members.push({
      userId: rd.fixed(ID_LENGTH, 'member'),
      uskFingerprint: rd.fixed(32, 'uskFingerprint'),
    });
  const m = rd.u32('admin count');
  if (m > MAX_MEMBERS) throw new InvalidInputError('roster: too many admins');
  const admins: Bytes[] = [];
  for (let i = 0; i < m; i++) admins.push(rd.fixed(ID_LENGTH, 'admin'));
  const roster: SignedRoster = {
    convId,
    epoch,
    prevRosterHash,
    members,
    admins,
    flags: rd.u32('flags'),
    changedByUser: rd.fixed(ID_LENGTH, 'changedByUser'),
    changedByDevice: rd.fixed(ID_LENGTH, 'changedByDevice'),
    createdAtMs: rd.u64('createdAtMs'),
    signature: rd.fixed(64, 'signature'),
  };
  rd.end();
  checkRoster(roster);
  return roster;
}

/** `roster_hash = SHA-256(enc(Roster))`: the salt of the epoch key schedule. */
export function rosterHash(r: Roster): Promise<Bytes> {
  return sha256(encodeRoster(r));
}

/**
 * Build the next roster (or the first, when `previous` is omitted) for a change made by `by`.
 * `members` gives each member's user id and current USK public key (from verified device lists);
 * the lists are put in canonical order. Epoch and `prevRosterHash` follow from `previous`.
 */
export async function buildRoster(params: {
  convId: Uint8Array;
  previous?: Roster;
  members: { userId: Uint8Array; uskPublicKey: Uint8Array }[];
  admins?: Uint8Array[];
  flags?: number;
  by: DeviceKeys;
  nowMs?: number;
}): Promise<Roster> {
  const p = params ?? ({} as never);
  checkBytes(p.convId, 'convId', ID_LENGTH);
  checkDeviceKeys(p.by, 'by');
  checkList<{ userId: Uint8Array; uskPublicKey: Uint8Array }>(p.members, 'members', MAX_MEMBERS);
  const members: RosterMember[] = [];
  for (const m of p.members) {
    checkBytes(m?.userId, 'member userId', ID_LENGTH);
    members.push({
      userId: Uint8Array.from(m.userId),
      uskFingerprint: await uskFingerprint(m.uskPublicKey),
    });
  }
  members.sort((a, b) => compareBytes(a.userId, b.userId));
  const previous = p.previous;
  if (previous) {
    checkRoster(previous);
    if (!ctEqual(previous.convId, p.convId))
      throw new InvalidInputError('previous roster is for another conversation');
  }
  const roster: Roster = {
    convId: Uint8Array.from(p.convId),
    epoch: previous ? previous.epoch + 1 : 0,
    prevRosterHash: previous ? await rosterHash(previous) : new Uint8Array(32),
    members,
    admins: (p.admins ?? []).map((a) => Uint8Array.from(a)).sort(compareBytes),
    flags: p.flags ?? 0,
    changedByUser: Uint8Array.from(p.by.userId),
    changedByDevice: Uint8Array.from(p.by.deviceId),
    createdAtMs: p.nowMs ?? Date.now(),
  };
  checkRoster(roster);
  return roster;
}

/** Sign a roster with the DSK of the device it names as `changedByDevice`. */
export async function signRoster(device: DeviceKeys, roster: Roster): Promise<SignedRoster> {
  checkDeviceKeys(device);
  const body = encodeRoster(roster);
  if (
    !ctEqual(roster.changedByUser, device.userId) ||
    !ctEqual(roster.changedByDevice, device.deviceId)
  ) {
    throw new InvalidInputError('roster must name the signing device as changedBy');
  }
  const signature = await ed25519Sign(
    device.signing.privateKey,
    concatBytes(SIG_LABELS.roster, body),
  );
  return { ...decodeSignedRoster(concatBytes(body, signature)) };
}

/**
 * Verify a signed roster and its authority, returning its hash. With `previous` (the verified
 * roster of the epoch before), also checks continuity. Rejected with {@link AuthenticationError}:
 * - a malformed roster, or one for another conversation or out of sequence (`epoch` must be
 *   `previous.epoch + 1` and `prevRosterHash` the previous roster's hash; without `previous`,
 *   only epoch 0 is accepted);
 * - a signature that is not by the DSK of `changedByDevice` as listed in the directory (i.e. in
 *   the current USK-signed device list of `changedByUser`);
 * - a changer who is not a member (of the previous roster; of this one at epoch 0), or not an
 *   admin when admins exist and the change adds or removes someone else or changes the admins;
 * - a member whose `uskFingerprint` does not match the USK the directory has pinned for them
 *   (the directory must know every member).
 */
export async function verifyRoster(
  roster: SignedRoster,
  context: { directory: DeviceDirectory; previous?: Roster },
): Promise<Bytes> {
  const { directory, previous } = context ?? ({} as never);
  if (!directory || typeof directory.deviceKey !== 'function')
    throw new InvalidInputError('directory must be a DeviceDirectory');
  let body: Bytes;
  try {
    body = encodeRoster(roster);
    checkBytes(roster.signature, 'signature', 64);
  } catch {
    throw new AuthenticationError();
  }
  // Continuity with the previous epoch.
  if (previous) {
    if (!ctEqual(previous.convId, roster.convId) || roster.epoch !== previous.epoch + 1)
      throw new AuthenticationError();
    if (!ctEqual(roster.prevRosterHash, await rosterHash(previous)))
      throw new AuthenticationError();
  } else if (roster.epoch !== 0) {
    throw new AuthenticationError();
  }
  // The signature, by a current device of the changing user.
  const dsk = directory.deviceKey(roster.changedByUser, roster.changedByDevice);
  if (!dsk) throw new AuthenticationError();
  if (!(await ed25519Verify(dsk, concatBytes(SIG_LABELS.roster, body), roster.signature)))
    throw new AuthenticationError();

  // The changer's authority, judged by the roster being changed.
  const authority = previous ?? roster;
  const changer = toHex(roster.changedByUser);
  if (!authority.members.some((m) => toHex(m.userId) === changer)) throw new AuthenticationError();
  if (
    previous &&
    previous.admins.length > 0 &&
    !previous.admins.some((a) => toHex(a) === changer)
  ) {
    const before = new Set(previous.members.map((m) => toHex(m.userId)));
    const after = new Set(roster.members.map((m) => toHex(m.userId)));
    const added = [...after].some((u) => !before.has(u));
    const removedOthers = [...before].some((u) => !after.has(u) && u !== changer);
    const adminsChanged = previous.admins.map(toHex).join() !== roster.admins.map(toHex).join();
    if (added || removedOthers || adminsChanged) throw new AuthenticationError();
  }
  // Every member's USK fingerprint matches the identity this client pinned for them.
  for (const m of roster.members) {
    const usk = directory.userKey(m.userId);
    if (!usk || !ctEqual(await uskFingerprint(usk), m.uskFingerprint))
      throw new AuthenticationError();
  }
  return sha256(body);
}

/** A recipient device of a commit, with its prekey as fetched from the server. */
export interface CommitRecipient {
  userId: Uint8Array;
  deviceId: Uint8Array;
  /** The device's DSK public key, from the owner's verified device list. */
  signingPublicKey: Uint8Array;
  /** The device's SPK or OPK; its signature is verified before sealing. */
  prekey: PublicPrekey;
}

/** What {@link buildCommit} produces: everything to submit, and the sender's own epoch state. */
export interface Commit {
  roster: SignedRoster;
  rosterHash: Bytes;
  /** One envelope per recipient device, in recipient order. */
  envelopes: { userId: Bytes; deviceId: Bytes; envelope: Bytes }[];
  /** The committing device's state for the new epoch (it does not send itself an envelope). */
  state: EpochState;
}

/**
 * Build a commit (§3.5): sign `roster` (from {@link buildRoster}) with `sender`, draw a fresh
 * 32-byte epoch secret, and seal it with the roster hash to every recipient device. Every
 * recipient must be a member and its prekey must verify against its DSK. For an ephemeral
 * roster, `recipients` must include every device of every member (their chains are derived now).
 * Submit `{ roster, envelopes }` with `expected_epoch = roster.epoch - 1`.
 */
export async function buildCommit(params: {
  sender: DeviceKeys;
  roster: Roster;
  recipients: CommitRecipient[];
  nowMs?: number;
}): Promise<Commit> {
  const { sender, roster, recipients } = params ?? ({} as never);
  checkDeviceKeys(sender, 'sender');
  checkList<CommitRecipient>(recipients, 'recipients', MAX_MEMBERS * 64);
  const signed = await signRoster(sender, roster);
  const hash = await rosterHash(signed);
  const members = new Set(signed.members.map((m) => toHex(m.userId)));
  for (const r of recipients) {
    checkBytes(r?.userId, 'recipient userId', ID_LENGTH);
    checkBytes(r.deviceId, 'recipient deviceId', ID_LENGTH);
    if (!members.has(toHex(r.userId)))
      throw new InvalidInputError('every recipient must be a roster member');
    try {
      await verifyPrekey(r.prekey, r);
    } catch {
      throw new InvalidInputError('recipient prekey does not verify against its device key');
    }
  }
  const epochSecret = randomBytes(32);
  const payload = encodeEpochSecretPayload({ epochSecret, rosterHash: hash });
  const envelopes = await Promise.all(
    recipients.map(async (r) => ({
      userId: Uint8Array.from(r.userId),
      deviceId: Uint8Array.from(r.deviceId),
      envelope: await sealEnvelope(sender, {
        kind: 'epoch',
        convId: signed.convId,
        epoch: signed.epoch,
        recipient: {
          userId: r.userId,
          deviceId: r.deviceId,
          prekeyId: r.prekey.prekeyId,
          prekeyKind: r.prekey.kind,
          publicKey: r.prekey.publicKey,
        },
        payload,
      }),
    })),
  );
  const ephemeral = (signed.flags & ROSTER_FLAGS.ephemeral) !== 0;
  const state = await EpochState.create({
    convId: signed.convId,
    epoch: signed.epoch,
    rosterHash: hash,
    members: signed.members.map((m) => m.userId),
    epochSecret,
    ownDeviceId: sender.deviceId,
    ...(ephemeral
      ? { ephemeral: { deviceIds: [sender.deviceId, ...recipients.map((r) => r.deviceId)] } }
      : {}),
    ...(params.nowMs !== undefined ? { nowMs: params.nowMs } : {}),
  });
  epochSecret.fill(0);
  return { roster: signed, rosterHash: hash, envelopes, state };
}

/**
 * Accept a commit addressed to this device: open the envelope with the prekey it names, check it
 * is an `epoch` envelope for this roster's conversation and epoch, sent by the roster's changing
 * device, carrying this roster's hash; verify the roster (see {@link verifyRoster}); and start the
 * epoch. For an ephemeral roster pass `ephemeralDeviceIds` (every device of every member).
 * Any failure throws {@link AuthenticationError}. Delete an OPK after it was used here.
 */
export async function openCommit(params: {
  device: DeviceKeys;
  prekey: PrivatePrekey;
  envelope: Uint8Array;
  roster: SignedRoster;
  previous?: Roster;
  directory: DeviceDirectory;
  ephemeralDeviceIds?: Uint8Array[];
  nowMs?: number;
}): Promise<{ state: EpochState; rosterHash: Bytes }> {
  const { device, prekey, envelope, roster, previous, directory } = params ?? ({} as never);
  checkDeviceKeys(device);
  const header = peekEnvelopeHeader(envelope);
  const senderDsk = directory.deviceKey(header.senderUser, header.senderDevice);
  if (!senderDsk) throw new AuthenticationError();
  const opened = await openEnvelope(device, prekey, envelope, senderDsk);
  const h = opened.header;
  if (
    h.kind !== 'epoch' ||
    !ctEqual(h.convId, roster.convId) ||
    h.epoch !== roster.epoch ||
    !ctEqual(h.senderUser, roster.changedByUser) ||
    !ctEqual(h.senderDevice, roster.changedByDevice)
  ) {
    throw new AuthenticationError();
  }
  const hash = await verifyRoster(roster, previous ? { directory, previous } : { directory });
  let payload;
  try {
    payload = decodeEpochSecretPayload(opened.payload);
  } catch {
    throw new AuthenticationError();
  }
  if (!ctEqual(payload.rosterHash, hash)) throw new AuthenticationError();
  if (!roster.members.some((m) => ctEqual(m.userId, device.userId)))
    throw new AuthenticationError();
  const ephemeral = (roster.flags & ROSTER_FLAGS.ephemeral) !== 0;
  if (ephemeral && !params.ephemeralDeviceIds)
    throw new InvalidInputError('ephemeralDeviceIds is required for an ephemeral roster');
  const state = await EpochState.create({
    convId: roster.convId,
    epoch: roster.epoch,
    rosterHash: hash,
    members: roster.members.map((m) => m.userId),
    epochSecret: payload.epochSecret,
    ownDeviceId: device.deviceId,
    ...(ephemeral ? { ephemeral: { deviceIds: params.ephemeralDeviceIds! } } : {}),
    ...(params.nowMs !== undefined ? { nowMs: params.nowMs } : {}),
  });
  payload.epochSecret.fill(0);
  return { state, rosterHash: hash };
}
