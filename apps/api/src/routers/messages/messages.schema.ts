import { z } from 'zod';
import { LIMITS, bytesSchema, idSchema } from '../wire.ts';

export const sendInput = z.object({
  conversationId: idSchema,
  epoch: z.number().int().min(0),
  clientMessageId: idSchema,
  sentAt: z.date(),
  ciphertext: bytesSchema('Message', LIMITS.messageBytes).refine(
    (b) => b.length > 0,
    'Message must not be empty',
  ),
  /** Files this message carries the keys of: deleting the message deletes them. */
  fileIds: z.array(idSchema).max(10).optional(),
  /** The message does not count as unread (an occurrence carried along by a series move). */
  silent: z.boolean().optional(),
});

export const listInput = z.object({
  conversationId: idSchema,
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(LIMITS.historyPage).default(50),
});

export const deleteInput = z.object({ conversationId: idSchema, clientMessageId: idSchema });

export const markReadInput = z.object({ conversationId: idSchema, seq: z.number().int().min(1) });

export type SendInput = z.infer<typeof sendInput>;
