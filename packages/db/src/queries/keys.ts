import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { lastEventId } from './events.ts';
import {
  deviceListVersions,
  deviceLists,
  devices,
  oneTimePrekeys,
  secretStorage,
  signedPrekeys,
  type DeviceListRow,
  type DeviceRow,
} from '../schema/index.ts';

export type PublishDeviceListResult = 'ok' | 'stale' | 'key_changed';

/**
 * Stores a user's device list if its version is higher than the stored one (clients reject
 * rollbacks anyway; the server refuses them early). A different signing key is accepted only
 * with `allowKeyChange` (an identity reset).
 */
export function publishDeviceList(
  db: Db,
  row: { userId: string; version: number; signingKey: Buffer; list: Buffer },
  allowKeyChange: boolean,
  now: Date,
): PublishDeviceListResult {
  return db.transaction(
    (tx) => {
      const current = tx.select().from(deviceLists).where(eq(deviceLists.userId, row.userId)).get();
      if (current && !allowKeyChange && !current.signingKey.equals(row.signingKey)) {
        return 'key_changed';
      }
      if (current && row.version <= current.version) return 'stale';
      tx.insert(deviceLists)
        .values({ ...row, updatedAt: now })
        .onConflictDoUpdate({
          target: deviceLists.userId,
          set: { version: row.version, signingKey: row.signingKey, list: row.list, updatedAt: now },
        })
        .run();
      // An identity reset starts a new chain: the old versions no longer verify against it.
      if (allowKeyChange && current && !current.signingKey.equals(row.signingKey)) {
        tx.delete(deviceListVersions).where(eq(deviceListVersions.userId, row.userId)).run();
      }
      tx.insert(deviceListVersions)
        .values({ userId: row.userId, version: row.version, list: row.list, createdAt: now })
        .run();
      return 'ok';
    },
    { behavior: 'immediate' },
  );
}

export function deviceListOf(db: Db, userId: string): DeviceListRow | undefined {
  return db.select().from(deviceLists).where(eq(deviceLists.userId, userId)).get();
}

/** A user's device lists newer than `afterVersion`, oldest first (at most `limit`). */
export function deviceListChain(db: Db, userId: string, afterVersion: number, limit: number) {
  return db
    .select({ version: deviceListVersions.version, list: deviceListVersions.list })
    .from(deviceListVersions)
    .where(and(eq(deviceListVersions.userId, userId), gt(deviceListVersions.version, afterVersion)))
    .orderBy(asc(deviceListVersions.version))
    .limit(limit)
    .all();
}

export function deviceListsOf(db: Db, userIds: string[]): DeviceListRow[] {
  if (userIds.length === 0) return [];
  return db.select().from(deviceLists).where(inArray(deviceLists.userId, userIds)).all();
}

/** Adds or updates a device row (its certificate); the device list is what makes it trusted. */
export function upsertDevice(
  db: Db,
  row: { id: string; userId: string; cert: Buffer },
  now: Date,
): void {
  db.insert(devices)
    .values({ ...row, createdAt: now, lastSeenAt: now, createdAfterEventId: lastEventId(db) })
    // Re-publishing a list is not activity of every device in it: last seen stays.
    .onConflictDoUpdate({ target: devices.id, set: { cert: row.cert } })
    .run();
}

export function deviceById(db: Db, id: string): DeviceRow | undefined {
  return db.select().from(devices).where(eq(devices.id, id)).get();
}

export function devicesOfUser(db: Db, userId: string, includeRevoked = false): DeviceRow[] {
  return db
    .select()
    .from(devices)
    .where(
      includeRevoked
        ? eq(devices.userId, userId)
        : and(eq(devices.userId, userId), isNull(devices.revokedAt)),
    )
    .orderBy(asc(devices.createdAt))
    .all();
}

/** The active (not revoked) devices of these users. */
export function activeDevicesOf(db: Db, userIds: string[]): DeviceRow[] {
  if (userIds.length === 0) return [];
  return db
    .select()
    .from(devices)
    .where(and(inArray(devices.userId, userIds), isNull(devices.revokedAt)))
    .all();
}

export function revokeDevices(db: Db, userId: string, deviceIds: string[], now: Date): void {
  if (deviceIds.length === 0) return;
  db.update(devices)
    .set({ revokedAt: now })
    .where(
      and(eq(devices.userId, userId), inArray(devices.id, deviceIds), isNull(devices.revokedAt)),
    )
    .run();
}

export function touchDevice(db: Db, id: string, now: Date): void {
  db.update(devices).set({ lastSeenAt: now }).where(eq(devices.id, id)).run();
}

export function setSignedPrekey(
  db: Db,
  row: { deviceId: string; prekeyId: number; bundle: Buffer },
  now: Date,
): void {
  db.insert(signedPrekeys)
    .values({ ...row, createdAt: now })
    .onConflictDoUpdate({
      target: signedPrekeys.deviceId,
      set: { prekeyId: row.prekeyId, bundle: row.bundle, createdAt: now },
    })
    .run();
}

export function addOneTimePrekeys(
  db: Db,
  deviceId: string,
  prekeys: { prekeyId: number; bundle: Buffer }[],
): void {
  if (prekeys.length === 0) return;
  db.insert(oneTimePrekeys)
    .values(prekeys.map((p) => ({ deviceId, ...p })))
    .onConflictDoNothing()
    .run();
}

export function countOneTimePrekeys(db: Db, deviceId: string): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(oneTimePrekeys)
      .where(eq(oneTimePrekeys.deviceId, deviceId))
      .get()?.n ?? 0
  );
}

export interface PrekeyBundleRow {
  deviceId: string;
  cert: Buffer;
  signedPrekey: { prekeyId: number; bundle: Buffer } | null;
  oneTimePrekey: { prekeyId: number; bundle: Buffer } | null;
}

/**
 * Prekey bundles for every active device of these users, each claiming (deleting) one one-time
 * prekey when any is left, in one immediate transaction so no prekey is handed out twice.
 */
export function claimPrekeyBundles(db: Db, userIds: string[]): PrekeyBundleRow[] {
  return db.transaction(
    (tx) => {
      const active = activeDevicesOf(tx, userIds);
      return active.map((device) => {
        const spk = tx
          .select({ prekeyId: signedPrekeys.prekeyId, bundle: signedPrekeys.bundle })
          .from(signedPrekeys)
          .where(eq(signedPrekeys.deviceId, device.id))
          .get();
        const opk = tx
          .select({ prekeyId: oneTimePrekeys.prekeyId, bundle: oneTimePrekeys.bundle })
          .from(oneTimePrekeys)
          .where(eq(oneTimePrekeys.deviceId, device.id))
          .orderBy(asc(oneTimePrekeys.prekeyId))
          .limit(1)
          .get();
        if (opk) {
          tx.delete(oneTimePrekeys)
            .where(
              and(
                eq(oneTimePrekeys.deviceId, device.id),
                eq(oneTimePrekeys.prekeyId, opk.prekeyId),
              ),
            )
            .run();
        }
        return {
          deviceId: device.id,
          cert: device.cert,
          signedPrekey: spk ?? null,
          oneTimePrekey: opk ?? null,
        };
      });
    },
    { behavior: 'immediate' },
  );
}

export function putSecret(db: Db, userId: string, name: string, value: Buffer, now: Date): void {
  db.insert(secretStorage)
    .values({ userId, name, value, updatedAt: now })
    .onConflictDoUpdate({
      target: [secretStorage.userId, secretStorage.name],
      set: { value, updatedAt: now },
    })
    .run();
}

export function secretsOf(db: Db, userId: string): { name: string; value: Buffer }[] {
  return db
    .select({ name: secretStorage.name, value: secretStorage.value })
    .from(secretStorage)
    .where(eq(secretStorage.userId, userId))
    .all();
}
