import {
  createDeviceKeys,
  createOneTimePrekeys,
  createSignedPrekey,
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
 */
export async function registerDevice(
  api: ApiClient,
  local: LocalState,
  device: DeviceKeys,
): Promise<void> {
  const spk = await createSignedPrekey(device, 1);
  const opks = await createOneTimePrekeys(device, PREKEY_POLICY.opkBatchSize, 1);
  await local.setDevice(device);
  await local.setPrekey(spk);
  for (const opk of opks) await local.setPrekey(opk);
  await local.setCounter('opk', 1 + opks.length);
  await api.keys.registerDevice.mutate({
    deviceId: toHex(device.deviceId),
    signedPrekey: publishedPrekey(spk),
    oneTimePrekeys: opks.map(publishedPrekey),
  });
}
