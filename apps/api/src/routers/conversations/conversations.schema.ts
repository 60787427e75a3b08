import { z } from 'zod';
import { usernameSchema } from '../auth/auth.schema.ts';
import { LIMITS, bytesSchema, idSchema } from '../wire.ts';

export const conversationIdInput = z.object({ conversationId: idSchema });

export const openDirectInput = z.object({ username: usernameSchema });

export const createGroupInput = z.object({
  members: z
    .array(usernameSchema)
    .max(LIMITS.groupMembers - 1, `A group has at most ${LIMITS.groupMembers} members`),
});

export const commitInput = z.object({
  conversationId: idSchema,
  /** The epoch this commit builds on; null for the first (which makes epoch 0). */
  expectedEpoch: z.number().int().min(0).nullable(),
  roster: bytesSchema('Roster', LIMITS.rosterBytes),
  add: z
    .array(z.object({ userId: idSchema, role: z.enum(['admin', 'member']).default('member') }))
    .max(LIMITS.groupMembers)
    .default([]),
  remove: z.array(idSchema).max(LIMITS.groupMembers).default([]),
  envelopes: z
    .array(
      z.object({
        recipientUserId: idSchema,
        recipientDeviceId: idSchema,
        envelope: bytesSchema('Envelope', LIMITS.envelopeBytes),
      }),
    )
    .max(LIMITS.envelopesPerCommit),
});

export const rosterInput = z.object({ conversationId: idSchema, epoch: z.number().int().min(0) });

export type CommitInput = z.infer<typeof commitInput>;
