import {
  encodeDeviceCert,
  encodeDeviceList,
  encodeRecoveryKey,
  fromHex,
  generateBackupKeyPair,
  generateRecoveryKey,
  generateUserSigningKey,
  sealSecret,
  SECRET_NAMES,
  signDeviceList,
  toBase64Url,
  toHex,
} from '@securechat/crypto';
import type { ApiClient } from '../client.ts';
import { createDevice, registerDevice } from './device-setup.ts';
import { PASSPHRASE_SECRET } from './key-backup.ts';
import type { Identities } from './identities.ts';
import type { LocalState } from './local-state.ts';

/**
 * Replaces the user's encryption identity (the last resort when the recovery key is lost): a new
 * user signing key under a new recovery key, and a new device list holding only this device,
 * published with `reset`, which revokes every other device on the server.
 *
 * The consequences, which the caller must tell the user: other devices stop working until they
 * are set up again with the new recovery key; history that exists only on those devices (or on
 * none) can no longer be decrypted; every contact sees a new safety number, and contacts who had
 * verified the user must accept the change before they can send again.
 *
 * This mirrors the engine's private device setup (keys, certificate, prekeys, registration), but
 * with a new list chain: the server refuses a different signing key unless `reset` is set, and
 * the list's version must be above the published one.
 */
export async function resetIdentity(
  api: ApiClient,
  local: LocalState,
  identities: Identities,
  me: { id: string },
  displayName: string,
): Promise<{ recoveryKey: string }> {
  const userId = fromHex(me.id, 16);
  const [published] = await api.keys.deviceLists.query({ userIds: [me.id] });
  const { usk, pkcs8 } = await generateUserSigningKey();
  const ssk = generateRecoveryKey();
  try {
    const { device, cert } = await createDevice(usk, userId, displayName);
    // A new chain: no predecessor to hash (contacts pin it on first use, as for a new user).
    const list = await signDeviceList(usk, {
      userId,
      listVersion: (published?.version ?? 0) + 1,
      prevHash: new Uint8Array(32),
      certs: [cert],
      revokedDeviceIds: [],
    });

    // Keys are kept locally before anything is published, so a failure half-way leaves this
    // device able to try again rather than an account whose only key was never stored.
    await local.setUserSigningKey(usk);
    await api.keys.publishDeviceList.mutate({
      version: list.listVersion,
      signingKey: toBase64Url(usk.publicKey),
      list: toBase64Url(encodeDeviceList(list)),
      devices: [{ id: toHex(device.deviceId), cert: toBase64Url(encodeDeviceCert(cert)) }],
      revokedDeviceIds: [],
      reset: true,
    });
    const sealed = await sealSecret(ssk, userId, SECRET_NAMES.userSigningKey, 1, pkcs8);
    // A new key backup too: the old one is readable only with the lost recovery key.
    const backup = await generateBackupKeyPair();
    const sealedBackup = await sealSecret(ssk, userId, SECRET_NAMES.backupKey, 1, backup.pkcs8);
    await api.keys.putSecrets.mutate({
      secrets: [
        { name: SECRET_NAMES.userSigningKey, value: toBase64Url(sealed) },
        { name: SECRET_NAMES.backupKey, value: toBase64Url(sealedBackup) },
      ],
    });
    // A passphrase wrapped the old recovery key, so it would unlock nothing now.
    await api.keys.deleteSecret.mutate({ name: PASSPHRASE_SECRET }).catch(() => {});
    await local.setSecret('usk-pkcs8', pkcs8);
    await local.setSecret('backup-pkcs8', backup.pkcs8);
    await local.setSecret('backup-public', backup.keyPair.publicKey);
    await local.setSecret('ssk', ssk);
    backup.pkcs8.fill(0);
    // The old device's epoch states cannot send any more (they name the old device), so they go.
    for (const conversationId of await local.conversationsWithEpochs()) {
      await local.deleteEpochs(conversationId);
    }
    await registerDevice(api, local, device);
    // Publishing the new backup key deletes the old entries on the server.
    await api.backup.setKey.mutate({ publicKey: toBase64Url(backup.keyPair.publicKey) });
    await identities.pinSelf(me.id, usk.publicKey, [list]);
    return { recoveryKey: await encodeRecoveryKey(ssk) };
  } finally {
    pkcs8.fill(0);
    ssk.fill(0);
  }
}
