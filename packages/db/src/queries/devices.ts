import { and, asc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  devices,
  keyBackupEntries,
  keyBackups,
  linkRequests,
  secretStorage,
  type LinkRequestRow,
} from '../schema/index.ts';

// ---------------------------------------------------------------------------------------------
// Device-link requests (§3.3 flow A)

export type CreateLinkRequestResult = 'ok' | 'too_many' | 'taken';

/**
 * Stores a new device's link request, replacing any earlier one of the same session (one pending
 * request per new device) and refusing when the user already has `maxPerUser` pending, so a
 * stolen session cannot flood the user's other devices with requests. Expired requests are
 * deleted on the way.
 */
export function createLinkRequest(
  db: Db,
  row: { handle: string; userId: string; sessionId: string; request: Buffer; expiresAt: Date },
  maxPerUser: number,
  now: Date,
): CreateLinkRequestResult {
  return db.transaction(
    (tx) => {
      deleteExpiredLinkRequests(tx, now);
      tx.delete(linkRequests).where(eq(linkRequests.sessionId, row.sessionId)).run();
      const pending =
        tx
          .select({ n: sql<number>`count(*)` })
          .from(linkRequests)
          .where(eq(linkRequests.userId, row.userId))
          .get()?.n ?? 0;
      if (pending >= maxPerUser) return 'too_many';
      const taken = tx
        .select({ handle: linkRequests.handle })
        .from(linkRequests)
        .where(eq(linkRequests.handle, row.handle))
        .get();
      if (taken) return 'taken';
      tx.insert(linkRequests)
        .values({ ...row, createdAt: now })
        .run();
      return 'ok';
    },
    { behavior: 'immediate' },
  );
}

/**
 * Deletes link requests past their expiry, with any provisioning envelope left on them: an
 * abandoned request should not keep even sealed keys on the server. Returns how many went.
 */
export function deleteExpiredLinkRequests(db: Db, now: Date): number {
  return db.delete(linkRequests).where(lte(linkRequests.expiresAt, now)).run().changes;
}

/** A user's unexpired link request by handle (another user's is as good as missing). */
export function linkRequestOf(
  db: Db,
  userId: string,
  handle: string,
  now: Date,
): LinkRequestRow | undefined {
  return db
    .select()
    .from(linkRequests)
    .where(
      and(
        eq(linkRequests.handle, handle),
        eq(linkRequests.userId, userId),
        gt(linkRequests.expiresAt, now),
      ),
    )
    .get();
}

export type ApproveLinkRequestResult = 'ok' | 'not_found' | 'already_approved';

/** Leaves the provisioning envelope on an unexpired, not yet approved request of the user. */
export function approveLinkRequest(
  db: Db,
  row: { userId: string; handle: string; envelope: Buffer; approvedByDeviceId: string },
  now: Date,
): ApproveLinkRequestResult {
  return db.transaction(
    (tx) => {
      const current = linkRequestOf(tx, row.userId, row.handle, now);
      if (!current) return 'not_found';
      if (current.envelope) return 'already_approved';
      tx.update(linkRequests)
        .set({ envelope: row.envelope, approvedByDeviceId: row.approvedByDeviceId })
        .where(eq(linkRequests.handle, row.handle))
        .run();
      return 'ok';
    },
    { behavior: 'immediate' },
  );
}

/** Deletes a request of this session; returns whether there was one. */
export function deleteLinkRequest(db: Db, sessionId: string, handle: string): boolean {
  return (
    db
      .delete(linkRequests)
      .where(and(eq(linkRequests.handle, handle), eq(linkRequests.sessionId, sessionId)))
      .run().changes > 0
  );
}

/** The request this session created (expired or not, so the caller can tell which). */
export function linkRequestOfSession(
  db: Db,
  sessionId: string,
  handle: string,
): LinkRequestRow | undefined {
  return db
    .select()
    .from(linkRequests)
    .where(and(eq(linkRequests.handle, handle), eq(linkRequests.sessionId, sessionId)))
    .get();
}

// ---------------------------------------------------------------------------------------------
// Key backup (§3.9)

/**
 * Publishes the user's backup public key. A different key than the stored one starts a new
 * backup: the old entries are deleted, since nothing can open them any more.
 */
export function setBackupKey(db: Db, userId: string, publicKey: Buffer, now: Date): void {
  db.transaction(
    (tx) => {
      const current = tx.select().from(keyBackups).where(eq(keyBackups.userId, userId)).get();
      if (current?.publicKey.equals(publicKey)) return;
      tx.delete(keyBackupEntries).where(eq(keyBackupEntries.userId, userId)).run();
      tx.insert(keyBackups)
        .values({ userId, publicKey, updatedAt: now })
        .onConflictDoUpdate({ target: keyBackups.userId, set: { publicKey, updatedAt: now } })
        .run();
    },
    { behavior: 'immediate' },
  );
}

export function backupKeyOf(db: Db, userId: string): { publicKey: Buffer } | undefined {
  return db
    .select({ publicKey: keyBackups.publicKey })
    .from(keyBackups)
    .where(eq(keyBackups.userId, userId))
    .get();
}

/** Adds backup entries; one already stored for the same conversation and epoch is kept (idempotent). */
export function putBackupEntries(
  db: Db,
  userId: string,
  entries: { conversationId: string; epoch: number; entry: Buffer }[],
  now: Date,
): void {
  if (entries.length === 0) return;
  db.insert(keyBackupEntries)
    .values(entries.map((e) => ({ ...e, userId, createdAt: now })))
    .onConflictDoNothing()
    .run();
}

/** A page of the user's backup entries after cursor `afterId`, in storage order. */
export function backupEntriesOf(db: Db, userId: string, afterId: number, limit: number) {
  return db
    .select({
      id: keyBackupEntries.id,
      conversationId: keyBackupEntries.conversationId,
      epoch: keyBackupEntries.epoch,
      entry: keyBackupEntries.entry,
    })
    .from(keyBackupEntries)
    .where(and(eq(keyBackupEntries.userId, userId), gt(keyBackupEntries.id, afterId)))
    .orderBy(asc(keyBackupEntries.id))
    .limit(limit)
    .all();
}

// ---------------------------------------------------------------------------------------------
// Devices and secrets

/** Renames one of the user's active devices; false when it is not theirs or was revoked. */
export function renameDevice(
  db: Db,
  userId: string,
  deviceId: string,
  signedName: Buffer,
): boolean {
  return (
    db
      .update(devices)
      .set({ signedName })
      .where(and(eq(devices.id, deviceId), eq(devices.userId, userId), isNull(devices.revokedAt)))
      .run().changes > 0
  );
}

/** Deletes one of the user's stored secrets; false when there was none. */
export function deleteSecret(db: Db, userId: string, name: string): boolean {
  return (
    db
      .delete(secretStorage)
      .where(and(eq(secretStorage.userId, userId), eq(secretStorage.name, name)))
      .run().changes > 0
  );
}
