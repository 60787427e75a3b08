import {
  createDeviceKeys,
  createOneTimePrekeys,
  createSignedPrekey,
  ctEqual,
  encodePublicPrekey,
  PREKEY_POLICY,
  publicPrekey,
  signDeviceCert,
  toBase64Url,
  toHex,
  type DeviceCert,
  type DeviceKeys,
  type PrivatePrekey,
  type UserSigningKey,
} from '@securechat/crypto';
import type { ApiClient } from '../client.ts';
import type { LocalState } from './local-state.ts';

/** A new device of the user holding `usk`: its keys and its certificate signed by the USK. */
export async function createDevice(
  usk: UserSigningKey,
  userId: Uint8Array,
  displayName: string,
): Promise<{ device: DeviceKeys; cert: DeviceCert }> {
  const device = await createDeviceKeys(userId);
  const cert = await signDeviceCert(usk, {
    userId: device.userId,
    deviceId: device.deviceId,
    dskPublicKey: device.signing.publicKey,
    createdAtMs: Date.now(),
    displayName,
  });
  return { device, cert };
}

/** A prekey in the form the key directory stores. */
export function publishedPrekey(prekey: PrivatePrekey) {
  return {
    prekeyId: prekey.prekeyId,
    bundle: toBase64Url(encodePublicPrekey(publicPrekey(prekey))),
  };
}

/**
 * Makes `device` this client's device: stores it with a fresh signed prekey and a batch of
 * one-time prekeys, then binds the session to it and publishes the prekeys. The device must
 * already be in the user's published device list.
 *
 * Safe to retry. The server keeps the first one-time prekey it stored under each id, so if an
 * attempt reached it but its answer was lost, a retry with new keys under the same ids would leave
 * this device without the private keys that senders' envelopes are sealed to. A retry for the same
 * device therefore publishes the prekeys the first attempt stored; new ones are made only when
 * none were stored completely (and then no attempt can have reached the server).
 */
export async function registerDevice(
  api: ApiClient,
  local: LocalState,
  device: DeviceKeys,
): Promise<void> {
  const stored = await storedRegistration(local, device);
  const spk = stored?.spk ?? (await createSignedPrekey(device, 1));
  const opks = stored?.opks ?? (await createOneTimePrekeys(device, PREKEY_POLICY.opkBatchSize, 1));
  if (!stored) {
    await local.setDevice(device);
    await local.setPrekey(spk);
    for (const opk of opks) await local.setPrekey(opk);
    await local.setCounter('opk', 1 + opks.length);
  }
  await api.keys.registerDevice.mutate({
    deviceId: toHex(device.deviceId),
    signedPrekey: publishedPrekey(spk),
    oneTimePrekeys: opks.map(publishedPrekey),
  });
}

/** The prekeys an earlier attempt stored for `device`, if it stored all of them. */
async function storedRegistration(
  local: LocalState,
  device: DeviceKeys,
): Promise<{ spk: PrivatePrekey; opks: PrivatePrekey[] } | undefined> {
  const current = await local.getDevice();
  if (!current || !ctEqual(current.deviceId, device.deviceId)) return undefined;
  // The counter is written last, so it is set only when every prekey before it was stored.
  if ((await local.getCounter('opk')) !== 1 + PREKEY_POLICY.opkBatchSize) return undefined;
  const spk = await local.getPrekey('spk', 1);
  const opks = await Promise.all(
    Array.from({ length: PREKEY_POLICY.opkBatchSize }, (_, i) => local.getPrekey('opk', 1 + i)),
  );
  if (!spk || opks.some((p) => p === undefined)) return undefined;
  return { spk, opks: opks as PrivatePrekey[] };
}
