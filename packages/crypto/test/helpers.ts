/**
 * Shared fixtures for the tests: users with a USK and devices, published device lists, a
 * directory built the way a client would build it, and conversations set up by a real commit.
 */
import { expect } from 'vitest';
import {
  AuthenticationError,
  buildCommit,
  buildRoster,
  createDeviceDirectory,
  createDeviceKeys,
  createDeviceList,
  createSignedPrekey,
  fromHex,
  generateUserSigningKey,
  nextDeviceList,
  openCommit,
  randomBytes,
  signDeviceCert,
  trustOnFirstUse,
  type DeviceCert,
  type DeviceDirectory,
  type DeviceKeys,
  type DeviceList,
  type EpochState,
  type PrivatePrekey,
  type Roster,
  type SignedRoster,
  type UserSigningKey,
} from '../src/index.ts';

/** Parse Wycheproof hex (lowercase, possibly empty). */
export const hex = (s: string): Uint8Array<ArrayBuffer> => fromHex(s);

export interface TestDevice {
  keys: DeviceKeys;
  cert: DeviceCert;
  spk: PrivatePrekey;
}

export interface TestUser {
  userId: Uint8Array<ArrayBuffer>;
  usk: UserSigningKey;
  /** The USK's PKCS#8 export, as it would sit in secret storage. */
  uskPkcs8: Uint8Array<ArrayBuffer>;
  devices: TestDevice[];
  list: DeviceList;
}

/** A user with `deviceCount` devices, each with a certificate and a signed prekey, and a published list. */
export async function makeUser(deviceCount = 1): Promise<TestUser> {
  const userId = randomBytes(16);
  const { usk, pkcs8: uskPkcs8 } = await generateUserSigningKey();
  const devices: TestDevice[] = [];
  for (let i = 0; i < deviceCount; i++) devices.push(await makeDevice(userId, usk, `device ${i}`));
  const list = await createDeviceList(
    usk,
    userId,
    devices.map((d) => d.cert),
  );
  return { userId, usk, uskPkcs8, devices, list };
}

/** A device for `userId` whose certificate is signed by `usk`. */
export async function makeDevice(
  userId: Uint8Array,
  usk: UserSigningKey,
  name = 'laptop',
): Promise<TestDevice> {
  const keys = await createDeviceKeys(userId);
  const cert = await signDeviceCert(usk, {
    userId: keys.userId,
    deviceId: keys.deviceId,
    dskPublicKey: keys.signing.publicKey,
    createdAtMs: 1_700_000_000_000,
    displayName: name,
  });
  const spk = await createSignedPrekey(keys, 1, 1_700_000_000_000);
  return { keys, cert, spk };
}

/** Add a device to a user and publish the next list. */
export async function addDevice(user: TestUser, name = 'phone'): Promise<TestDevice> {
  const device = await makeDevice(user.userId, user.usk, name);
  user.devices.push(device);
  user.list = await nextDeviceList(user.usk, user.list, { add: [device.cert] });
  return device;
}

/** A directory over the users' current lists, as a client that pinned them on first use would have. */
export async function directoryOf(users: TestUser[]): Promise<DeviceDirectory> {
  return createDeviceDirectory(
    await Promise.all(users.map((u) => trustOnFirstUse(u.userId, u.usk.publicKey, u.list))),
  );
}

export interface Conversation {
  convId: Uint8Array<ArrayBuffer>;
  roster: SignedRoster;
  directory: DeviceDirectory;
  /** Epoch state per device, keyed by the device object. */
  states: Map<TestDevice, EpochState>;
}

/**
 * Set up (or advance) a conversation between `users` through a real commit by `by`: build and
 * sign the roster, seal envelopes to every other device, and open each envelope on its device.
 */
export async function commitConversation(
  users: TestUser[],
  by: TestDevice,
  options: {
    convId?: Uint8Array<ArrayBuffer>;
    previous?: Roster;
    admins?: Uint8Array[];
    flags?: number;
  } = {},
): Promise<Conversation> {
  const convId = options.convId ?? randomBytes(16);
  const directory = await directoryOf(users);
  const roster = await buildRoster({
    convId,
    ...(options.previous ? { previous: options.previous } : {}),
    members: users.map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey })),
    admins: options.admins ?? [],
    flags: options.flags ?? 0,
    by: by.keys,
    nowMs: 1_700_000_000_000,
  });
  const others = users.flatMap((u) => u.devices).filter((d) => d !== by);
  const commit = await buildCommit({
    sender: by.keys,
    roster,
    recipients: others.map((d) => ({
      userId: d.keys.userId,
      deviceId: d.keys.deviceId,
      signingPublicKey: d.keys.signing.publicKey,
      prekey: d.spk,
    })),
    nowMs: 1_700_000_000_000,
  });
  const states = new Map<TestDevice, EpochState>([[by, commit.state]]);
  const ephemeral = (roster.flags & 1) !== 0;
  const allDeviceIds = users.flatMap((u) => u.devices.map((d) => d.keys.deviceId));
  for (const [i, d] of others.entries()) {
    const opened = await openCommit({
      device: d.keys,
      prekey: d.spk,
      envelope: commit.envelopes[i]!.envelope,
      roster: commit.roster,
      ...(options.previous ? { previous: options.previous } : {}),
      directory,
      ...(ephemeral ? { ephemeralDeviceIds: allDeviceIds } : {}),
      nowMs: 1_700_000_000_000,
    });
    states.set(d, opened.state);
  }
  return { convId, roster: commit.roster, directory, states };
}

/** Assert that a promise rejects with the opaque AuthenticationError (and nothing more specific). */
export async function expectAuthFailure(p: Promise<unknown>): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as Error).message).toBe('authentication failed');
}

/** Flip one bit of a copy of `bytes`. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(bit) || bit < 0 || bit >= bytes.length * 8)
    throw new RangeError(`bit ${bit} is outside the input`);
  const out = Uint8Array.from(bytes);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/**
 * Assert two byte arrays are equal. Faster than `toEqual` on megabyte arrays, and reports the
 * first differing offset.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length, 'length').toBe(expected.length);
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      first = i;
      break;
    }
  }
  expect(first, 'first differing offset').toBe(-1);
}
