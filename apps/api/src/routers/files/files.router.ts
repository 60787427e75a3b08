import { randomBytes } from 'node:crypto';
import {
  bytesUsedBy,
  deleteFileRow,
  fileById,
  filesOfConversation,
  markFileComplete,
  membershipOf,
  reserveUpload,
} from '@securechat/db';
import { z } from 'zod';
import { DomainError, invalidField, notFound } from '../../errors.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireMember } from '../access.ts';
import { conversationIdInput } from '../conversations/conversations.schema.ts';
import { idSchema } from '../wire.ts';

const MiB = 1024 * 1024;
const fileIdInput = z.object({ fileId: idSchema });

const toFileDto = (row: NonNullable<ReturnType<typeof fileById>>) => ({
  fileId: row.id,
  conversationId: row.conversationId,
  uploaderUserId: row.uploaderUserId,
  size: row.size,
  sha256: row.sha256,
  messageId: row.messageClientId,
  createdAt: row.createdAt,
});

/**
 * Encrypted file metadata. The bytes move over `PUT /files/:id` and `GET /files/:id` (see
 * files/routes.ts); the server sees sizes and hashes of ciphertext, never names or contents.
 */
export const filesRouter = router({
  /**
   * Reserves an upload of `size` ciphertext bytes into a conversation the caller belongs to;
   * refused early when over the size limit or the caller's quota. The server picks the random,
   * unguessable file id; the client binds it into the encryption before uploading (the
   * ciphertext's size follows from the plaintext's, so it is known before encrypting).
   */
  createUpload: authedProcedure
    .input(
      z.object({
        conversationId: idSchema,
        size: z.number().int().min(0, 'Size must not be negative'),
      }),
    )
    .mutation(({ ctx, input }) => {
      requireMember(ctx, input.conversationId);
      const { maxFileBytes, fileQuotaBytes } = ctx.deps.config.limits;
      if (input.size > maxFileBytes) {
        throw new DomainError(
          'too_large',
          `Files may be at most ${Math.floor(maxFileBytes / MiB)} MiB`,
        );
      }
      const row = reserveUpload(
        ctx.deps.db,
        {
          id: randomBytes(16).toString('hex'),
          conversationId: input.conversationId,
          uploaderUserId: ctx.user.id,
          size: input.size,
        },
        fileQuotaBytes,
        new Date(),
      );
      if (row === 'over_quota') {
        throw new DomainError('too_large', 'Your storage quota is full: delete some files first');
      }
      return { fileId: row.id, uploadPath: `/files/${row.id}` };
    }),

  /**
   * Makes an uploaded file available to the conversation: its blob must have arrived whole, and
   * the SHA-256 the server computed must equal the one the client declares (the one that goes
   * into the encrypted message). A mismatch removes the upload.
   */
  complete: authedProcedure
    .input(
      fileIdInput.extend({
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 hex characters'),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const file = fileById(ctx.deps.db, input.fileId);
      if (!file || file.uploaderUserId !== ctx.user.id) throw notFound('No such upload');
      if (file.status === 'complete') return toFileDto(file);
      if (file.sha256 === null || !(await ctx.deps.blobs.arrived(file.id))) {
        throw new DomainError('stale', 'The file has not been uploaded yet');
      }
      if (file.sha256 !== input.sha256) {
        deleteFileRow(ctx.deps.db, file.id);
        await ctx.deps.blobs.remove(file.id);
        throw invalidField('sha256', 'The uploaded bytes do not match this hash; upload again');
      }
      // Only now does the blob reach the place downloads are served from.
      await ctx.deps.blobs.promote(file.id);
      markFileComplete(ctx.deps.db, file.id, new Date());
      return toFileDto(fileById(ctx.deps.db, file.id)!);
    }),

  /** A conversation's files, newest first. */
  list: authedProcedure.input(conversationIdInput).query(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    return filesOfConversation(ctx.deps.db, input.conversationId, 500).map(toFileDto);
  }),

  /** Deletes a file: its uploader may, and so may an admin of its conversation. */
  delete: authedProcedure.input(fileIdInput).mutation(async ({ ctx, input }) => {
    const file = fileById(ctx.deps.db, input.fileId);
    const member = file ? membershipOf(ctx.deps.db, file.conversationId, ctx.user.id) : undefined;
    if (!file || !member) throw notFound('No such file');
    if (file.uploaderUserId !== ctx.user.id && member.role !== 'admin') {
      throw new DomainError('forbidden', 'Only the uploader or an admin can delete this file');
    }
    deleteFileRow(ctx.deps.db, file.id);
    await ctx.deps.blobs.remove(file.id);
    return { ok: true as const };
  }),

  /** What the caller stores against the quota, and the limits. */
  usage: authedProcedure.query(({ ctx }) => ({
    usedBytes: bytesUsedBy(ctx.deps.db, ctx.user.id),
    quotaBytes: ctx.deps.config.limits.fileQuotaBytes,
    maxFileBytes: ctx.deps.config.limits.maxFileBytes,
  })),
});
