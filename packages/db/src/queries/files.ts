import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { files, type FileRow } from '../schema/index.ts';

/** Bytes a user holds or has reserved (uploads under way count at their declared size). */
export function bytesUsedBy(db: Db, userId: string): number {
  return (
    db
      .select({ used: sql<number>`coalesce(sum(${files.size}), 0)` })
      .from(files)
      .where(eq(files.uploaderUserId, userId))
      .get()?.used ?? 0
  );
}

/**
 * Reserves space for an upload: inserts the row unless it would take the uploader over
 * `quotaBytes`, checked and written in one immediate transaction so two uploads cannot both
 * squeeze under the quota.
 */
export function reserveUpload(
  db: Db,
  row: { id: string; conversationId: string; uploaderUserId: string; size: number },
  quotaBytes: number,
  now: Date,
): FileRow | 'over_quota' {
  return db.transaction(
    (tx) => {
      if (bytesUsedBy(tx, row.uploaderUserId) + row.size > quotaBytes) return 'over_quota';
      return tx
        .insert(files)
        .values({ ...row, status: 'uploading', createdAt: now })
        .returning()
        .get();
    },
    { behavior: 'immediate' },
  );
}

export function fileById(db: Db, id: string): FileRow | undefined {
  return db.select().from(files).where(eq(files.id, id)).get();
}

/** Records the hash of a blob that arrived whole. */
export function setFileHash(db: Db, id: string, sha256: string): void {
  db.update(files).set({ sha256 }).where(eq(files.id, id)).run();
}

/** Marks an upload complete (its blob is in place and verified); false if it was not uploading. */
export function markFileComplete(db: Db, id: string, now: Date): boolean {
  return (
    db
      .update(files)
      .set({ status: 'complete', completedAt: now })
      .where(and(eq(files.id, id), eq(files.status, 'uploading')))
      .run().changes > 0
  );
}

export function deleteFileRow(db: Db, id: string): void {
  db.delete(files).where(eq(files.id, id)).run();
}

export function filesOfConversation(db: Db, conversationId: string, limit: number): FileRow[] {
  return db
    .select()
    .from(files)
    .where(and(eq(files.conversationId, conversationId), eq(files.status, 'complete')))
    .orderBy(desc(files.createdAt))
    .limit(limit)
    .all();
}

/**
 * Links completed files to the message that carries their keys. Only the uploader's own
 * complete, unlinked files in that conversation are linked; returns how many were.
 */
export function linkFilesToMessage(
  db: Db,
  fileIds: string[],
  conversationId: string,
  uploaderUserId: string,
  messageClientId: string,
): number {
  let linked = 0;
  for (const id of fileIds) {
    linked += db
      .update(files)
      .set({ messageClientId })
      .where(
        and(
          eq(files.id, id),
          eq(files.conversationId, conversationId),
          eq(files.uploaderUserId, uploaderUserId),
          eq(files.status, 'complete'),
          isNull(files.messageClientId),
        ),
      )
      .run().changes;
  }
  return linked;
}

export function filesOfMessage(db: Db, conversationId: string, messageClientId: string): FileRow[] {
  return db
    .select()
    .from(files)
    .where(
      and(eq(files.conversationId, conversationId), eq(files.messageClientId, messageClientId)),
    )
    .all();
}

/**
 * Uploads never finished (older than `uploadingBefore`) and complete files no message ever
 * carried (older than `unlinkedBefore`): what the cleanup removes.
 */
export function staleFiles(db: Db, uploadingBefore: Date, unlinkedBefore: Date): FileRow[] {
  return db
    .select()
    .from(files)
    .where(
      or(
        and(eq(files.status, 'uploading'), lt(files.createdAt, uploadingBefore)),
        and(
          eq(files.status, 'complete'),
          isNull(files.messageClientId),
          lt(files.createdAt, unlinkedBefore),
        ),
      ),
    )
    .all();
}

/** Every file id the database knows, for finding blobs on disk that no row owns. */
export function allFileIds(db: Db): Set<string> {
  return new Set(
    db
      .select({ id: files.id })
      .from(files)
      .all()
      .map((row) => row.id),
  );
}
