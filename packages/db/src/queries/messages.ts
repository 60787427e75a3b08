import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  conversationMembers,
  conversations,
  messages,
  type EventRow,
  type MessageRow,
} from '../schema/index.ts';
import { appendEvents } from './events.ts';

export interface NewMessage {
  conversationId: string;
  epoch: number;
  senderUserId: string;
  senderDeviceId: string;
  clientMessageId: string;
  sentAt: Date;
  ciphertext: Buffer;
}

export type InsertMessageResult =
  | { ok: true; message: MessageRow; event: EventRow | null; duplicate: boolean }
  | { ok: false; reason: 'not_member' | 'stale_epoch' | 'no_epoch'; currentEpoch?: number | null };

/**
 * Stores a batch of messages in one immediate transaction (group commit: one fsync for all the
 * sends of an event-loop turn). Each is checked inside the transaction: the sender must be a
 * member, and the message must be under the conversation's current epoch, so nothing encrypted
 * to an old membership is accepted after a commit. A repeated client message id returns the
 * stored message (idempotent retries).
 */
export function insertMessages(db: Db, batch: NewMessage[], now: Date): InsertMessageResult[] {
  return db.transaction(
    (tx) => {
      return batch.map((m): InsertMessageResult => {
        const existing = tx
          .select()
          .from(messages)
          .where(
            and(
              eq(messages.conversationId, m.conversationId),
              eq(messages.clientMessageId, m.clientMessageId),
            ),
          )
          .get();
        if (existing && existing.senderUserId === m.senderUserId) {
          return { ok: true, message: existing, event: null, duplicate: true };
        }
        const member = tx
          .select({ epoch: conversations.epoch, needsRotation: conversations.needsRotation })
          .from(conversationMembers)
          .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
          .where(
            and(
              eq(conversationMembers.conversationId, m.conversationId),
              eq(conversationMembers.userId, m.senderUserId),
            ),
          )
          .get();
        // A foreign sender reusing someone's client id is treated as not being allowed at all.
        if (!member || existing) return { ok: false, reason: 'not_member' };
        if (member.epoch === null) return { ok: false, reason: 'no_epoch', currentEpoch: null };
        if (member.epoch !== m.epoch || member.needsRotation)
          return { ok: false, reason: 'stale_epoch', currentEpoch: member.epoch };
        const message = tx
          .insert(messages)
          .values({ ...m, receivedAt: now, size: m.ciphertext.length })
          .returning()
          .get();
        tx.update(conversations)
          .set({ lastActivityAt: now })
          .where(eq(conversations.id, m.conversationId))
          .run();
        const [event] = appendEvents(
          tx,
          [{ kind: 'message', conversationId: m.conversationId, ref: message.seq }],
          now,
        );
        return { ok: true, message, event: event!, duplicate: false };
      });
    },
    { behavior: 'immediate' },
  );
}

/** A page of a conversation's history, newest first, before `beforeSeq` when given. */
export function messagePage(
  db: Db,
  conversationId: string,
  beforeSeq: number | null,
  limit: number,
): MessageRow[] {
  return db
    .select()
    .from(messages)
    .where(
      beforeSeq === null
        ? eq(messages.conversationId, conversationId)
        : and(eq(messages.conversationId, conversationId), lt(messages.seq, beforeSeq)),
    )
    .orderBy(desc(messages.seq))
    .limit(limit)
    .all();
}

export function messageByClientId(
  db: Db,
  conversationId: string,
  clientMessageId: string,
): MessageRow | undefined {
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        eq(messages.clientMessageId, clientMessageId),
      ),
    )
    .get();
}

/**
 * Deletes a message's content for everyone (the row stays as a tombstone so history and unread
 * counts stay consistent). Only its sender may; returns the event, or null when refused.
 */
export function deleteMessage(
  db: Db,
  conversationId: string,
  clientMessageId: string,
  userId: string,
  now: Date,
): { event: EventRow; message: MessageRow } | 'not_found' | 'not_sender' {
  return db.transaction(
    (tx) => {
      const message = messageByClientId(tx, conversationId, clientMessageId);
      if (!message) return 'not_found';
      if (message.senderUserId !== userId) return 'not_sender';
      const updated = tx
        .update(messages)
        .set({ ciphertext: null, deletedAt: now })
        .where(eq(messages.seq, message.seq))
        .returning()
        .get();
      const [event] = appendEvents(
        tx,
        [{ kind: 'message.deleted', conversationId, ref: message.seq, data: { clientMessageId } }],
        now,
      );
      return { event: event!, message: updated };
    },
    { behavior: 'immediate' },
  );
}

/**
 * Moves a member's read marker forward (never back). The event is only logged when the member
 * shares read receipts; the unread count changes either way.
 */
export function markRead(
  db: Db,
  conversationId: string,
  userId: string,
  seq: number,
  share: boolean,
  now: Date,
): EventRow | null | 'unchanged' {
  return db.transaction(
    (tx) => {
      const maxSeq =
        tx
          .select({ max: sql<number>`coalesce(max(${messages.seq}), 0)` })
          .from(messages)
          .where(eq(messages.conversationId, conversationId))
          .get()?.max ?? 0;
      const target = Math.min(seq, maxSeq);
      const updated = tx
        .update(conversationMembers)
        .set({ lastReadSeq: target })
        .where(
          and(
            eq(conversationMembers.conversationId, conversationId),
            eq(conversationMembers.userId, userId),
            lt(conversationMembers.lastReadSeq, target),
          ),
        )
        .run();
      if (updated.changes === 0) return 'unchanged';
      if (!share) return null;
      const [event] = appendEvents(
        tx,
        [{ kind: 'read', conversationId, data: { userId, seq: target } }],
        now,
      );
      return event!;
    },
    { behavior: 'immediate' },
  );
}
