import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStorageFull } from '../errors.ts';

/** File ids are 16 random bytes in hex; nothing else ever becomes part of a path. */
export const FILE_ID = /^[0-9a-f]{32}$/;

export class UploadError extends Error {
  constructor(
    readonly reason: 'too_large' | 'size_mismatch' | 'aborted' | 'storage_full',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Encrypted blobs on disk under `<dataDir>/files`: `tmp/<id>.<random>` while arriving,
 * `tmp/<id>` once whole (fsynced, hashed, not yet checked against the client's hash), and
 * `<id[0..2]>/<id>` once `files.complete` found its hash matching. Only the last is served.
 */
export function createBlobStore(dataDir: string) {
  const root = join(dataDir, 'files');
  const tmp = join(root, 'tmp');

  const checked = (id: string) => {
    if (!FILE_ID.test(id)) throw new Error('not a file id');
    return id;
  };
  const pathOf = (id: string) => join(root, checked(id).slice(0, 2), id);
  const arrivedPath = (id: string) => join(tmp, checked(id));
  const exists = async (path: string) => {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  };

  return {
    root,
    async init(): Promise<void> {
      await mkdir(tmp, { recursive: true });
      // Partial uploads left by a crash were never acknowledged: safe to drop. Whole ones stay
      // until completed or cleaned up.
      for (const name of await readdir(tmp)) {
        if (!FILE_ID.test(name)) await rm(join(tmp, name), { force: true });
      }
    },

    /**
     * Streams `body` to disk, hashing as it goes, with no more than a stream buffer in memory.
     * Keeps it (at `tmp/<id>`) only when exactly `size` bytes arrived, after an fsync, and
     * returns their SHA-256 (hex); otherwise removes every trace and throws UploadError.
     */
    async write(id: string, body: Readable, expected: { size: number }): Promise<string> {
      const partial = join(tmp, `${id}.${randomBytes(6).toString('hex')}`);
      const hash = createHash('sha256');
      let received = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (received > expected.size) {
            callback(
              new UploadError(
                'too_large',
                `The upload is larger than the declared ${expected.size} bytes`,
              ),
            );
            return;
          }
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      try {
        await pipeline(body, meter, createWriteStream(partial, { flags: 'wx' }));
        if (received !== expected.size) {
          throw new UploadError(
            'size_mismatch',
            `Expected ${expected.size} bytes, received ${received}`,
          );
        }
        const digest = hash.digest('hex');
        const handle = await open(partial, 'r');
        await handle.sync();
        await handle.close();
        await rename(partial, arrivedPath(id));
        return digest;
      } catch (error) {
        await rm(partial, { force: true });
        if (error instanceof UploadError) throw error;
        if (isStorageFull(error)) {
          throw new UploadError(
            'storage_full',
            'The server is out of storage space; try again later',
          );
        }
        throw new UploadError('aborted', 'The upload was interrupted');
      }
    },

    /** A read stream of a complete blob, optionally a byte range (inclusive). */
    read(id: string, range?: { start: number; end: number }): Readable {
      return createReadStream(pathOf(id), range ?? {});
    },

    /** Whether an upload arrived whole (verified or not). */
    async arrived(id: string): Promise<boolean> {
      return (await exists(arrivedPath(id))) || exists(pathOf(id));
    },

    /** Moves a whole upload whose hash the caller verified into its final place. */
    async promote(id: string): Promise<void> {
      await mkdir(join(root, id.slice(0, 2)), { recursive: true });
      await rename(arrivedPath(id), pathOf(id));
    },

    async remove(id: string): Promise<void> {
      await rm(pathOf(id), { force: true });
      await rm(arrivedPath(id), { force: true });
    },

    /** Ids of every blob on disk, final or arrived. */
    async ids(): Promise<string[]> {
      const out = (await readdir(tmp)).filter((name) => FILE_ID.test(name));
      for (const dir of await readdir(root)) {
        if (!/^[0-9a-f]{2}$/.test(dir)) continue;
        for (const name of await readdir(join(root, dir))) if (FILE_ID.test(name)) out.push(name);
      }
      return out;
    },
  };
}

export type BlobStore = ReturnType<typeof createBlobStore>;
