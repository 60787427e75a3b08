import { and, asc, desc, eq, gt, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  conversationMembers,
  conversations,
  envelopes,
  epochs,
  messages,
  users,
  type ConversationKind,
  type ConversationRow,
  type EventRow,
  type MemberRole,
  type MemberRow,
} from '../schema/index.ts';
import { appendEvents, lastEventId, type NewEvent } from './events.ts';

export interface NewConversation {
  id: string;
  kind: ConversationKind;
  uniqueKey: string | null;
  createdBy: string;
  members: { userId: string; role: MemberRole }[];
}

/**
 * Creates a conversation with its first members, or returns the existing one with the same
 * unique key (direct and notes conversations exist once).
 */
export function createConversation(
  db: Db,
  input: NewConversation,
  now: Date,
): { conversation: ConversationRow; created: boolean; events: EventRow[] } {
  return db.transaction(
    (tx) => {
      if (input.uniqueKey) {
        const existing = tx
          .select()
          .from(conversations)
          .where(eq(conversations.uniqueKey, input.uniqueKey))
          .get();
        if (existing) return { conversation: existing, created: false, events: [] };
      }
      const conversation = tx
        .insert(conversations)
        .values({
          id: input.id,
          kind: input.kind,
          uniqueKey: input.uniqueKey,
          createdBy: input.createdBy,
          createdAt: now,
          lastActivityAt: now,
        })
        .returning()
        .get();
      const after = lastEventId(tx);
      tx.insert(conversationMembers)
        .values(
          input.members.map((m) => ({
            conversationId: input.id,
            userId: m.userId,
            role: m.role,
            joinedAt: now,
            joinedAfterEventId: after,
          })),
        )
        .run();
      const added = appendEvents(
        tx,
        input.members.map((m) => ({
          kind: 'membership' as const,
          userId: m.userId,
          conversationId: input.id,
          data: { userId: m.userId, change: 'added', by: input.createdBy, role: m.role },
        })),
        now,
      );
      return { conversation, created: true, events: added };
    },
    { behavior: 'immediate' },
  );
}

export function conversationById(db: Db, id: string): ConversationRow | undefined {
  return db.select().from(conversations).where(eq(conversations.id, id)).get();
}

export function conversationByUniqueKey(db: Db, uniqueKey: string): ConversationRow | undefined {
  return db.select().from(conversations).where(eq(conversations.uniqueKey, uniqueKey)).get();
}

export function membershipOf(
  db: Db,
  conversationId: string,
  userId: string,
): MemberRow | undefined {
  return db
    .select()
    .from(conversationMembers)
    .where(
      and(
        eq(conversationMembers.conversationId, conversationId),
        eq(conversationMembers.userId, userId),
      ),
    )
    .get();
}

export interface MemberView {
  userId: string;
  username: string;
  role: MemberRole;
  joinedAt: Date;
  lastReadSeq: number;
  sendReadReceipts: boolean;
}

export function membersOf(db: Db, conversationId: string): MemberView[] {
  return db
    .select({
      userId: conversationMembers.userId,
      username: users.username,
      role: conversationMembers.role,
      joinedAt: conversationMembers.joinedAt,
      lastReadSeq: conversationMembers.lastReadSeq,
      sendReadReceipts: users.sendReadReceipts,
    })
    .from(conversationMembers)
    .innerJoin(users, eq(users.id, conversationMembers.userId))
    .where(eq(conversationMembers.conversationId, conversationId))
    .orderBy(asc(conversationMembers.joinedAt), asc(users.username))
    .all();
}

/** User ids of a conversation's members. */
export function memberIdsOf(db: Db, conversationId: string): string[] {
  return db
    .select({ userId: conversationMembers.userId })
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, conversationId))
    .all()
    .map((row) => row.userId);
}

export interface ConversationSummary {
  conversation: ConversationRow;
  role: MemberRole;
  lastReadSeq: number;
  unread: number;
  lastSeq: number | null;
}

/** The user's conversations, most recently active first, with unread counts. */
export function conversationsOfUser(db: Db, userId: string): ConversationSummary[] {
  const unread = sql<number>`(
    select count(*) from ${messages}
    where ${messages.conversationId} = ${conversations.id}
      and ${messages.seq} > ${conversationMembers.lastReadSeq}
      and ${messages.senderUserId} <> ${userId}
      and ${messages.deletedAt} is null
      and not ${messages.silent}
  )`;
  const lastSeq = sql<number | null>`(
    select max(${messages.seq}) from ${messages} where ${messages.conversationId} = ${conversations.id}
  )`;
  return db
    .select({
      conversation: conversations,
      role: conversationMembers.role,
      lastReadSeq: conversationMembers.lastReadSeq,
      unread,
      lastSeq,
    })
    .from(conversationMembers)
    .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
    .where(eq(conversationMembers.userId, userId))
    .orderBy(desc(conversations.lastActivityAt))
    .all();
}

/** User ids that share at least one conversation with this user (for presence). */
export function contactsOf(db: Db, userId: string): string[] {
  const mine = db
    .select({ id: conversationMembers.conversationId })
    .from(conversationMembers)
    .where(eq(conversationMembers.userId, userId));
  return db
    .selectDistinct({ userId: conversationMembers.userId })
    .from(conversationMembers)
    .where(
      and(
        inArray(conversationMembers.conversationId, mine),
        ne(conversationMembers.userId, userId),
      ),
    )
    .all()
    .map((row) => row.userId);
}

export interface CommitInput {
  conversationId: string;
  /** The epoch the committer built on; null for the first commit (which makes epoch 0). */
  expectedEpoch: number | null;
  roster: Buffer;
  committedByUser: string;
  committedByDevice: string;
  add: { userId: string; role: MemberRole }[];
  remove: string[];
  envelopes: { recipientUserId: string; recipientDeviceId: string; envelope: Buffer }[];
}

export type CommitResult =
  | { ok: true; epoch: number; events: EventRow[] }
  | { ok: false; reason: 'stale'; currentEpoch: number | null }
  | { ok: false; reason: 'not_found' };

/**
 * Moves a conversation to its next epoch (§3.5): an atomic compare-and-set on the epoch inside
 * one immediate transaction, so of two concurrent commits exactly one wins. `check` runs inside
 * the transaction with the conversation, its members before the change and who would be a
 * member afterwards; it refuses the commit by throwing, which rolls everything back.
 */
export function commitEpoch(
  db: Db,
  input: CommitInput,
  check: (conversation: ConversationRow, before: MemberRow[], after: string[]) => void,
  now: Date,
): CommitResult {
  return db.transaction(
    (tx) => {
      const conversation = conversationById(tx, input.conversationId);
      if (!conversation) return { ok: false as const, reason: 'not_found' as const };
      if (conversation.epoch !== input.expectedEpoch) {
        return { ok: false as const, reason: 'stale' as const, currentEpoch: conversation.epoch };
      }
      const before = tx
        .select()
        .from(conversationMembers)
        .where(eq(conversationMembers.conversationId, input.conversationId))
        .all();
      const after = new Set(before.map((m) => m.userId));
      for (const userId of input.remove) after.delete(userId);
      for (const { userId } of input.add) after.add(userId);
      check(conversation, before, [...after]);

      const epoch = input.expectedEpoch === null ? 0 : input.expectedEpoch + 1;
      const joinedAfter = lastEventId(tx);
      const newEvents: NewEvent[] = [];
      if (input.remove.length) {
        tx.delete(conversationMembers)
          .where(
            and(
              eq(conversationMembers.conversationId, input.conversationId),
              inArray(conversationMembers.userId, input.remove),
            ),
          )
          .run();
        for (const userId of input.remove) {
          const data = {
            userId,
            change: userId === input.committedByUser ? 'left' : 'removed',
            by: input.committedByUser,
          };
          // The conversation's remaining members hear of it, and so does the one who went.
          newEvents.push({ kind: 'membership', conversationId: input.conversationId, data });
          newEvents.push({
            kind: 'membership',
            conversationId: input.conversationId,
            userId,
            data,
          });
        }
      }
      const existing = new Set(before.map((m) => m.userId));
      const added = input.add.filter((m) => !existing.has(m.userId));
      if (added.length) {
        tx.insert(conversationMembers)
          .values(
            added.map((m) => ({
              conversationId: input.conversationId,
              userId: m.userId,
              role: m.role,
              joinedAt: now,
              joinedAfterEventId: joinedAfter,
            })),
          )
          .run();
        for (const m of added) {
          newEvents.push({
            kind: 'membership',
            conversationId: input.conversationId,
            data: { userId: m.userId, change: 'added', by: input.committedByUser, role: m.role },
          });
        }
      }
      tx.insert(epochs)
        .values({
          conversationId: input.conversationId,
          epoch,
          roster: input.roster,
          committedByUser: input.committedByUser,
          committedByDevice: input.committedByDevice,
          createdAt: now,
        })
        .run();
      tx.update(conversations)
        .set({
          epoch,
          needsRotation: false,
          lastActivityAt: now,
        })
        .where(eq(conversations.id, input.conversationId))
        .run();
      newEvents.push({ kind: 'commit', conversationId: input.conversationId, data: { epoch } });
      if (input.envelopes.length) {
        const stored = tx
          .insert(envelopes)
          .values(
            input.envelopes.map((e) => ({
              ...e,
              conversationId: input.conversationId,
              epoch,
              senderUserId: input.committedByUser,
              senderDeviceId: input.committedByDevice,
              createdAt: now,
            })),
          )
          .returning({ id: envelopes.id, deviceId: envelopes.recipientDeviceId })
          .all();
        for (const e of stored) {
          newEvents.push({
            kind: 'envelope',
            conversationId: input.conversationId,
            deviceId: e.deviceId,
            ref: e.id,
            data: { epoch },
          });
        }
      }
      return { ok: true as const, epoch, events: appendEvents(tx, newEvents, now) };
    },
    { behavior: 'immediate' },
  );
}

export function rosterOf(db: Db, conversationId: string, epoch: number): Buffer | undefined {
  return db
    .select({ roster: epochs.roster })
    .from(epochs)
    .where(and(eq(epochs.conversationId, conversationId), eq(epochs.epoch, epoch)))
    .get()?.roster;
}

/** The envelopes addressed to one device in a conversation, newest epoch first. */
export function envelopesFor(db: Db, deviceId: string, conversationId: string, sinceEpoch = 0) {
  return db
    .select()
    .from(envelopes)
    .where(
      and(
        eq(envelopes.recipientDeviceId, deviceId),
        eq(envelopes.conversationId, conversationId),
        gt(envelopes.epoch, sinceEpoch - 1),
      ),
    )
    .orderBy(desc(envelopes.epoch))
    .all();
}

/**
 * Removes a member without a new epoch (they leave; they must not choose the next secret) and
 * marks the conversation for rotation before anyone's next message.
 */
export function leaveConversation(
  db: Db,
  conversationId: string,
  userId: string,
  now: Date,
): EventRow[] | null {
  return db.transaction(
    (tx) => {
      const removed = tx
        .delete(conversationMembers)
        .where(
          and(
            eq(conversationMembers.conversationId, conversationId),
            eq(conversationMembers.userId, userId),
          ),
        )
        .run();
      if (removed.changes === 0) return null;
      tx.update(conversations)
        .set({ needsRotation: true, lastActivityAt: now })
        .where(eq(conversations.id, conversationId))
        .run();
      const data = { userId, change: 'left', by: userId };
      return appendEvents(
        tx,
        [
          { kind: 'membership', conversationId, data },
          { kind: 'membership', conversationId, userId, data },
        ],
        now,
      );
    },
    { behavior: 'immediate' },
  );
}

/**
 * Marks every keyed conversation of a user for rotation (§3.7): after their devices change, no
 * message is accepted until someone commits an epoch whose envelopes reach exactly the devices
 * now listed (a revoked one is cut off, a new one gets the keys).
 */
export function markConversationsForRotation(db: Db, userId: string): number {
  const mine = db
    .select({ id: conversationMembers.conversationId })
    .from(conversationMembers)
    .where(eq(conversationMembers.userId, userId));
  return db
    .update(conversations)
    .set({ needsRotation: true })
    .where(and(inArray(conversations.id, mine), isNotNull(conversations.epoch)))
    .run().changes;
}
