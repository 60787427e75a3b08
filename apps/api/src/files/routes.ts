import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { deleteFileRow, fileById, membershipOf, setFileHash } from '@securechat/db';
import { requestSessionId, type ServerDeps } from '../trpc/context.ts';
import { isStorageFull } from '../errors.ts';
import { FILE_ID, UploadError } from './blob-store.ts';

/**
 * The blob transfer itself, beside tRPC: `PUT /files/:id` streams an upload created with
 * `files.createUpload`, `GET /files/:id` streams a download. Plain HTTP because tRPC procedures
 * take and return JSON, and a 200 MiB body must stream, not be buffered. Same session (cookie or
 * bearer), origin checks (in server.ts) and rate limit as tRPC.
 */
export function createFileRoutes(deps: ServerDeps) {
  const { blobs, db } = deps;

  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ error: { code, message } }));
  };

  function authenticate(req: IncomingMessage, res: ServerResponse) {
    const sessionId = requestSessionId(req);
    const valid = sessionId ? deps.sessions.validate(sessionId) : null;
    if (!valid) {
      fail(res, 401, 'UNAUTHORIZED', 'Sign in first');
      return null;
    }
    const retryAfter = deps.rateLimiter.take(valid.session.id);
    if (retryAfter > 0) {
      res.setHeader('Retry-After', String(retryAfter));
      fail(res, 429, 'TOO_MANY_REQUESTS', 'Too many requests; slow down');
      return null;
    }
    return valid;
  }

  async function upload(req: IncomingMessage, res: ServerResponse, id: string) {
    const valid = authenticate(req, res);
    if (!valid) return;
    const file = fileById(db, id);
    if (!file || file.uploaderUserId !== valid.user.id)
      return fail(res, 404, 'NOT_FOUND', 'No such upload');
    if (file.status !== 'uploading' || (await blobs.arrived(id))) {
      return fail(res, 409, 'CONFLICT', 'This upload already arrived');
    }
    const length = Number(req.headers['content-length'] ?? NaN);
    // Refused before a byte is read when the client announces too much.
    if (Number.isFinite(length) && length > file.size) {
      res.setHeader('Connection', 'close');
      return fail(
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `The upload is larger than the declared ${file.size} bytes`,
      );
    }
    try {
      setFileHash(db, id, await blobs.write(id, req, { size: file.size }));
    } catch (error) {
      // Nothing of a failed upload stays: not the partial blob, not its reservation (unless
      // the disk is too full even to delete it: the cleanup at the next start removes it).
      try {
        deleteFileRow(db, id);
      } catch (deleteError) {
        if (!isStorageFull(deleteError)) throw deleteError;
      }
      if (
        isStorageFull(error) ||
        (error instanceof UploadError && error.reason === 'storage_full')
      ) {
        res.setHeader('Connection', 'close');
        deps.logger.error(
          { event: 'storage.full', path: '/files' },
          'out of storage space: upload refused',
        );
        return fail(
          res,
          503,
          'SERVICE_UNAVAILABLE',
          'The server is out of storage space, so nothing was saved; try again later',
        );
      }
      if (!(error instanceof UploadError) || error.reason === 'aborted') {
        if (!res.headersSent && !req.destroyed)
          fail(res, 400, 'BAD_REQUEST', 'The upload was interrupted');
        return;
      }
      res.setHeader('Connection', 'close');
      const status = error.reason === 'too_large' ? 413 : 400;
      return fail(res, status, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', error.message);
    }
    res.statusCode = 201;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ fileId: id, size: file.size }));
  }

  async function download(req: IncomingMessage, res: ServerResponse, id: string) {
    const valid = authenticate(req, res);
    if (!valid) return;
    const file = fileById(db, id);
    // Only members of the file's conversation; to anyone else it does not exist.
    if (
      !file ||
      file.status !== 'complete' ||
      !membershipOf(db, file.conversationId, valid.user.id)
    ) {
      return fail(res, 404, 'NOT_FOUND', 'No such file');
    }
    const size = file.size;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Disposition', `attachment; filename="${id}.bin"`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    res.setHeader('ETag', `"${file.sha256 ?? id}"`);
    res.setHeader('Accept-Ranges', 'bytes');

    let range: { start: number; end: number } | undefined;
    const header = req.headers.range;
    if (header && size > 0) {
      const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
      let start = NaN;
      let end = size - 1;
      if (match && (match[1] || match[2])) {
        if (match[1]) {
          start = Number(match[1]);
          if (match[2]) end = Math.min(Number(match[2]), size - 1);
        } else {
          start = Math.max(0, size - Number(match[2]));
        }
      }
      if (!Number.isSafeInteger(start) || start > end || start >= size) {
        res.setHeader('Content-Range', `bytes */${size}`);
        return fail(res, 416, 'RANGE_NOT_SATISFIABLE', 'That range is outside the file');
      }
      range = { start, end };
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
      res.setHeader('Content-Length', String(end - start + 1));
    } else {
      res.statusCode = 200;
      res.setHeader('Content-Length', String(size));
    }
    if (req.method === 'HEAD') return void res.end();
    try {
      await pipeline(blobs.read(id, range), res);
    } catch {
      res.destroy(); // the client went away, or the disk failed: nothing more to say
    }
  }

  /** Handles `/files/<id>`; returns false for other paths. */
  return function handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const match = /^\/files\/([^/]*)$/.exec(path);
    if (!match) return false;
    const id = match[1]!;
    if (!FILE_ID.test(id)) {
      fail(res, 404, 'NOT_FOUND', 'No such file');
      return true;
    }
    // A failure nobody expected answers 500 and is logged; it never takes the process down.
    const unexpected = (error: unknown) => {
      deps.logger.error({ err: error, path: '/files' }, 'unexpected error');
      if (!res.headersSent) fail(res, 500, 'INTERNAL_SERVER_ERROR', 'Something went wrong');
      else res.destroy();
    };
    if (req.method === 'PUT') upload(req, res, id).catch(unexpected);
    else if (req.method === 'GET' || req.method === 'HEAD')
      download(req, res, id).catch(unexpected);
    else {
      res.setHeader('Allow', 'GET, HEAD, PUT');
      fail(res, 405, 'METHOD_NOT_SUPPORTED', 'Use GET or PUT');
    }
    return true;
  };
}
