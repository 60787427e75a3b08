import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  conversationMembers,
  conversations,
  events,
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
  /** Not counted as unread (see the column). */
  silent?: boolean;
}

export type InsertMessageResult =
  | { ok: true; message: MessageRow; event: EventRow | null; duplicate: boolean }
  | { ok: false; reason: 'not_member' | 'stale_epoch' | 'no_epoch'; currentEpoch?: number | null };

/**
 * Stores batches of messages, each in one immediate transaction (group commit: one fsync for all
 * the sends of an event-loop turn). Each message is checked inside the transaction: the sender
 * must be a member, and the message must be under the conversation's current epoch, so nothing
 * encrypted to an old membership is accepted after a commit. A repeated client message id
 * returns the stored message (idempotent retries). The statements are prepared once: this is the
 * hottest write path.
 */
export function createMessageInserter(db: Db) {
  const existing = db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, sql.placeholder('conversationId')),
        eq(messages.clientMessageId, sql.placeholder('clientMessageId')),
      ),
    )
    .prepare();
  const membership = db
    .select({ epoch: conversations.epoch, needsRotation: conversations.needsRotation })
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(
      and(
        eq(conversationMembers.conversationId, sql.placeholder('conversationId')),
        eq(conversationMembers.userId, sql.placeholder('userId')),
      ),
    )
    .prepare();
  const insert = db
    .insert(messages)
    .values({
      conversationId: sql.placeholder('conversationId'),
      epoch: sql.placeholder('epoch'),
      senderUserId: sql.placeholder('senderUserId'),
      senderDeviceId: sql.placeholder('senderDeviceId'),
      clientMessageId: sql.placeholder('clientMessageId'),
      sentAt: sql.placeholder('sentAt'),
      receivedAt: sql.placeholder('receivedAt'),
      size: sql.placeholder('size'),
      ciphertext: sql.placeholder('ciphertext'),
      silent: sql.placeholder('silent'),
    })
    .returning()
    .prepare();
  const touch = db
    .update(conversations)
    .set({ lastActivityAt: sql`${sql.placeholder('now')}` })
    .where(eq(conversations.id, sql.placeholder('conversationId')))
    .prepare();
  const logEvent = db
    .insert(events)
    .values({
      kind: 'message',
      conversationId: sql.placeholder('conversationId'),
      ref: sql.placeholder('ref'),
      createdAt: sql.placeholder('now'),
    })
    .returning()
    .prepare();

  return function insertMessages(batch: NewMessage[], now: Date): InsertMessageResult[] {
    const nowMs = now.getTime();
    return db.transaction(
      () =>
        batch.map((m): InsertMessageResult => {
          const found = existing.get({
            conversationId: m.conversationId,
            clientMessageId: m.clientMessageId,
          });
          if (found && found.senderUserId === m.senderUserId) {
            return { ok: true, message: found, event: null, duplicate: true };
          }
          const member = membership.get({
            conversationId: m.conversationId,
            userId: m.senderUserId,
          });
          // A foreign sender reusing someone's client id is treated as not being allowed at all.
          if (!member || found) return { ok: false, reason: 'not_member' };
          if (member.epoch === null) return { ok: false, reason: 'no_epoch', currentEpoch: null };
          if (member.epoch !== m.epoch || member.needsRotation) {
            return { ok: false, reason: 'stale_epoch', currentEpoch: member.epoch };
          }
          // Insert placeholders go through the columns' encoders (Dates); the raw SQL one in
          // `touch` goes straight to the driver (milliseconds).
          const message = insert.get({
            ...m,
            receivedAt: now,
            size: m.ciphertext.length,
            silent: m.silent ?? false,
          })!;
          touch.run({ now: nowMs, conversationId: m.conversationId });
          const event = logEvent.get({ conversationId: m.conversationId, ref: message.seq, now })!;
          return { ok: true, message, event, duplicate: false };
        }),
      { behavior: 'immediate' },
    );
  };
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
