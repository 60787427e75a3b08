import { allFileIds, deleteFileRow, staleFiles, type Db } from '@securechat/db';
import type { Logger } from '../logger.ts';
import type { BlobStore } from './blob-store.ts';

const HOUR = 60 * 60 * 1000;

/**
 * Removes what no one will use: uploads not completed within an hour, completed files no
 * message carried within a day, and blobs on disk whose row is gone (their conversation or
 * message was deleted).
 */
export async function cleanUpFiles(
  db: Db,
  blobs: BlobStore,
  logger: Logger,
  now = Date.now(),
): Promise<number> {
  let removed = 0;
  for (const file of staleFiles(db, new Date(now - HOUR), new Date(now - 24 * HOUR))) {
    deleteFileRow(db, file.id);
    await blobs.remove(file.id);
    removed += 1;
  }
  const known = allFileIds(db);
  for (const id of await blobs.ids()) {
    if (!known.has(id)) {
      await blobs.remove(id);
      removed += 1;
    }
  }
  if (removed > 0) logger.info({ event: 'files.cleaned', removed });
  return removed;
}
