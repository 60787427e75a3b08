import {
  AuthenticationError,
  ctEqual,
  decodeSignedRoster,
  EpochState,
  fromBase64Url,
  fromHex,
  openKeyBackupEntry,
  rosterHash,
  sealKeyBackupEntry,
  toBase64Url,
  toHex,
  type Bytes,
  type DeviceKeys,
  type KeyPair,
} from '@securechat/crypto';
import type { ApiClient } from '../client.ts';
import { apiErrorCode } from '../errors.ts';
import type { LocalState, PendingBackupEntry } from './local-state.ts';

/** Secret-storage name of the passphrase-wrapped secret-storage key (§3.9). */
export const PASSPHRASE_SECRET = 'ssk-passphrase';

/** An epoch's secret as the key backup and the provisioning bundle carry it. */
export interface EpochSecret {
  convId: Bytes;
  epoch: number;
  epochSecret: Bytes;
  rosterHash: Bytes;
}

/**
 * Seals a new epoch's secret to the user's backup key and uploads it (§3.9), so a device that
 * recovers later reads this epoch's messages. Ephemeral epochs are never backed up. A failed
 * upload is kept locally and retried with the next one: backup must never block messaging.
 */
export async function backUpEpoch(
  api: ApiClient,
  local: LocalState,
  conversationId: string,
  state: EpochState,
): Promise<void> {
  const publicKey = await local.getSecret('backup-public');
  if (!publicKey) return; // backup not set up on this device (an account older than backup)
  const data = state.serialize();
  if (data.ephemeral || !data.epochSecret) return;
  const entry = await sealKeyBackupEntry(publicKey, fromHex(conversationId, 16), data.epoch, {
    epochSecret: data.epochSecret,
    rosterHash: data.rosterHash,
  });
  await local.setPendingBackup({ conversationId, epoch: data.epoch, entry });
  await flushBackups(api, local);
}

/**
 * Uploads every entry still waiting; leaves them for later on failure. An entry the server
 * refuses as NOT_FOUND (the user has left that conversation since) is dropped, one by one, so
 * it cannot hold back the others.
 */
export async function flushBackups(api: ApiClient, local: LocalState): Promise<void> {
  const pending = await local.pendingBackups();
  const upload = (batch: PendingBackupEntry[]) =>
    api.backup.putEntries.mutate({
      entries: batch.map((e) => ({
        conversationId: e.conversationId,
        epoch: e.epoch,
        entry: toBase64Url(e.entry),
      })),
    });
  for (let i = 0; i < pending.length; i += 500) {
    const batch = pending.slice(i, i + 500);
    try {
      await upload(batch);
      for (const e of batch) await local.deletePendingBackup(e.conversationId, e.epoch);
    } catch (error) {
      if (apiErrorCode(error) !== 'NOT_FOUND') return; // offline or refused: retried next time
      for (const e of batch) {
        try {
          await upload([e]);
        } catch (single) {
          if (apiErrorCode(single) !== 'NOT_FOUND') return;
        }
        await local.deletePendingBackup(e.conversationId, e.epoch);
      }
    }
  }
}

/** Downloads and opens the whole key backup with its private key. Unopenable entries are skipped. */
export async function downloadBackup(api: ApiClient, backupKey: KeyPair): Promise<EpochSecret[]> {
  const out: EpochSecret[] = [];
  for (let after = 0; ;) {
    const page = await api.backup.entries.query({ after });
    for (const row of page.entries) {
      const convId = fromHex(row.conversationId, 16);
      try {
        const opened = await openKeyBackupEntry(
          backupKey,
          convId,
          row.epoch,
          fromBase64Url(row.entry),
        );
        out.push({ convId, epoch: row.epoch, ...opened });
      } catch (error) {
        // Sealed to an older backup key, or tampered with: nothing to restore from it.
        if (!(error instanceof AuthenticationError)) throw error;
      }
    }
    if (page.next === null) return out;
    after = page.next;
  }
}

/**
 * Installs epoch secrets (from the key backup or a provisioning bundle) as epoch states of this
 * device, so messages of those epochs decrypt. Each epoch's roster is fetched and must hash to
 * the roster hash that came with the secret (the member list is what receiver check 4 uses).
 * Epochs this device already holds are left alone. Returns how many were installed.
 */
export async function installEpochs(
  api: ApiClient,
  local: LocalState,
  device: DeviceKeys,
  epochs: EpochSecret[],
): Promise<number> {
  let installed = 0;
  for (const e of epochs) {
    const conversationId = toHex(e.convId);
    if (await local.getEpoch(conversationId, e.epoch)) continue;
    let rosterBytes: Uint8Array;
    try {
      const { roster } = await api.conversations.roster.query({ conversationId, epoch: e.epoch });
      rosterBytes = fromBase64Url(roster);
    } catch {
      continue; // no longer a member, or the conversation is gone
    }
    const roster = decodeSignedRoster(rosterBytes);
    if (!ctEqual(await rosterHash(roster), e.rosterHash)) continue;
    const state = await EpochState.create({
      convId: e.convId,
      epoch: e.epoch,
      rosterHash: e.rosterHash,
      members: roster.members.map((m) => m.userId),
      epochSecret: e.epochSecret,
      ownDeviceId: device.deviceId,
    });
    await local.setEpoch(conversationId, state.serialize());
    await local.setRoster(conversationId, e.epoch, rosterBytes);
    installed += 1;
  }
  return installed;
}
