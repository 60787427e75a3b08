import {
  deleteFileRow,
  deleteMessage,
  filesOfMessage,
  linkFilesToMessage,
  markRead,
  messagePage,
  userById,
} from '@securechat/db';
import { DomainError, notFound } from '../../errors.ts';
import { publishEvents } from '../../events/publish.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireDevice, requireMember } from '../access.ts';
import { toMessageDto } from './dto.ts';
import { conversationIdInput } from '../conversations/conversations.schema.ts';
import { deleteInput, listInput, markReadInput, sendInput } from './messages.schema.ts';

export const messagesRouter = router({
  /**
   * Stores an encrypted message and acknowledges it once it is on disk. Idempotent on
   * `clientMessageId`: a retry returns the original. Refused with PRECONDITION_FAILED when not
   * under the conversation's current epoch (the sender must catch up on keys and re-encrypt).
   */
  send: authedProcedure.input(sendInput).mutation(async ({ ctx, input }) => {
    const deviceId = requireDevice(ctx);
    const result = await ctx.deps.messageWriter.write({
      conversationId: input.conversationId,
      epoch: input.epoch,
      senderUserId: ctx.user.id,
      senderDeviceId: deviceId,
      clientMessageId: input.clientMessageId,
      sentAt: input.sentAt,
      ciphertext: input.ciphertext,
      silent: input.silent ?? false,
    });
    if (!result.ok) {
      if (result.reason === 'not_member') throw notFound('No such conversation');
      throw new DomainError(
        'stale',
        result.reason === 'no_epoch'
          ? 'The conversation has no keys yet; commit the first epoch'
          : result.currentEpoch === input.epoch
            ? 'A member left: rotate the keys (commit a new epoch) before sending'
            : `The conversation is at epoch ${result.currentEpoch}; catch up on its keys and encrypt again`,
      );
    }
    if (input.fileIds?.length && !result.duplicate) {
      linkFilesToMessage(
        ctx.deps.db,
        input.fileIds,
        input.conversationId,
        ctx.user.id,
        input.clientMessageId,
      );
    }
    return {
      seq: result.message.seq,
      clientMessageId: result.message.clientMessageId,
      receivedAt: result.message.receivedAt,
      duplicate: result.duplicate,
    };
  }),

  /** A page of history, newest first; pass `before` = the last page's `nextBefore`. */
  list: authedProcedure.input(listInput).query(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const rows = messagePage(ctx.deps.db, input.conversationId, input.before ?? null, input.limit);
    return {
      messages: rows.map(toMessageDto),
      nextBefore: rows.length === input.limit ? rows[rows.length - 1]!.seq : null,
    };
  }),

  /** Deletes one of the caller's own messages for everyone; the ciphertext is erased. */
  delete: authedProcedure.input(deleteInput).mutation(async ({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const result = deleteMessage(
      ctx.deps.db,
      input.conversationId,
      input.clientMessageId,
      ctx.user.id,
      new Date(),
    );
    if (result === 'not_found') throw notFound('No such message');
    if (result === 'not_sender')
      throw new DomainError('forbidden', 'Only the sender can delete a message');
    publishEvents(ctx.deps.db, ctx.deps.hub, [result.event]);
    // Its files go with it.
    for (const file of filesOfMessage(ctx.deps.db, input.conversationId, input.clientMessageId)) {
      deleteFileRow(ctx.deps.db, file.id);
      await ctx.deps.blobs.remove(file.id);
    }
    return { ok: true as const };
  }),

  /** Moves the caller's read marker; shared with the others only if the caller allows it. */
  markRead: authedProcedure.input(markReadInput).mutation(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const user = userById(ctx.deps.db, ctx.user.id)!;
    const event = markRead(
      ctx.deps.db,
      input.conversationId,
      ctx.user.id,
      input.seq,
      user.sendReadReceipts,
      new Date(),
    );
    if (event && event !== 'unchanged') publishEvents(ctx.deps.db, ctx.deps.hub, [event]);
    return { ok: true as const };
  }),

  /** Tells the other members the caller is typing (not stored; dropped if the caller opted out). */
  typing: authedProcedure.input(conversationIdInput).mutation(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    const user = userById(ctx.deps.db, ctx.user.id)!;
    if (user.sendTyping) {
      ctx.deps.hub.publishEphemeral(
        { type: 'typing', conversationId: input.conversationId, userId: ctx.user.id },
        { conversationId: input.conversationId },
        ctx.user.id,
      );
    }
    return { ok: true as const };
  }),
});
