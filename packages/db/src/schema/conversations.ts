import { sql } from 'drizzle-orm';
import {
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import { devices } from './keys.ts';
import { users } from './users.ts';

export const CONVERSATION_KINDS = ['direct', 'group', 'notes'] as const;
export type ConversationKind = (typeof CONVERSATION_KINDS)[number];
export const MEMBER_ROLES = ['admin', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/**
 * A conversation: direct (two users), group, or one user's notes. Its title and avatar are not
 * here: they travel end-to-end encrypted, as control messages.
 */
export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: CONVERSATION_KINDS }).notNull(),
    /** Makes direct and notes conversations unique: "direct:<a>:<b>" (sorted) or "notes:<user>". */
    uniqueKey: text('unique_key'),
    /** The current epoch: null until the first commit (epoch 0) distributes keys. */
    epoch: integer('epoch'),
    /**
     * Set when someone left without a new epoch (a leaver must not pick the next secret): no
     * message is accepted until a remaining member commits one (§3.7, rotate before next message).
     */
    needsRotation: integer('needs_rotation', { mode: 'boolean' }).notNull().default(false),
    createdBy: text('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastActivityAt: integer('last_activity_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('conversations_unique_key').on(t.uniqueKey)],
);

export const conversationMembers = sqliteTable(
  'conversation_members',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: MEMBER_ROLES }).notNull(),
    joinedAt: integer('joined_at', { mode: 'timestamp_ms' }).notNull(),
    /** The last event before this user joined: they see nothing older. */
    joinedAfterEventId: integer('joined_after_event_id').notNull(),
    /** The highest message sequence this user has read. */
    lastReadSeq: integer('last_read_seq').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index('conversation_members_user_idx').on(t.userId),
  ],
);

/** Each epoch's signed roster (§3.5): who was in the conversation, signed by the committer. */
export const epochs = sqliteTable(
  'epochs',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    roster: blob('roster', { mode: 'buffer' }).notNull(),
    committedByUser: text('committed_by_user').notNull(),
    committedByDevice: text('committed_by_device').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.epoch] })],
);

/** An epoch secret sealed to one recipient device (§3.4). */
export const envelopes = sqliteTable(
  'envelopes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    recipientUserId: text('recipient_user_id').notNull(),
    recipientDeviceId: text('recipient_device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    senderUserId: text('sender_user_id').notNull(),
    senderDeviceId: text('sender_device_id').notNull(),
    envelope: blob('envelope', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('envelopes_recipient_idx').on(t.recipientDeviceId, t.conversationId)],
);

/**
 * A message as the server knows it: opaque ciphertext plus the routing header. `seq` orders a
 * conversation's history and serves as the paging cursor.
 */
export const messages = sqliteTable(
  'messages',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    epoch: integer('epoch').notNull(),
    senderUserId: text('sender_user_id').notNull(),
    senderDeviceId: text('sender_device_id').notNull(),
    clientMessageId: text('client_message_id').notNull(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }).notNull(),
    receivedAt: integer('received_at', { mode: 'timestamp_ms' }).notNull(),
    size: integer('size').notNull(),
    ciphertext: blob('ciphertext', { mode: 'buffer' }),
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
    /**
     * Set by its sender: the message does not count as unread. Clients use it for calendar
     * occurrences re-signed by a move of their whole series, which the chat folds into the
     * move's card (the server learns which those are from the move itself).
     */
    silent: integer('silent', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    uniqueIndex('messages_client_id_unique').on(t.conversationId, t.clientMessageId),
    index('messages_conversation_seq_idx').on(t.conversationId, t.seq),
  ],
);

export const EVENT_KINDS = [
  'message',
  'message.deleted',
  'envelope',
  'commit',
  'membership',
  'read',
  'calendar',
  'calendar.reminder',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * The event log every device resumes from. `id` is a monotonic sequence (AUTOINCREMENT never
 * reuses an id), so `lastEventId` names exactly what a device has seen. An event is addressed to
 * a conversation's members, to one user, or to one device.
 */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: EVENT_KINDS }).notNull(),
    conversationId: text('conversation_id'),
    userId: text('user_id'),
    deviceId: text('device_id'),
    /** The message seq or envelope id the event refers to. */
    ref: integer('ref'),
    /** Small routing facts (JSON), never content. */
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    index('events_conversation_idx')
      .on(t.conversationId, t.id)
      .where(sql`${t.conversationId} is not null`),
    index('events_user_idx')
      .on(t.userId, t.id)
      .where(sql`${t.userId} is not null`),
    index('events_device_idx')
      .on(t.deviceId, t.id)
      .where(sql`${t.deviceId} is not null`),
  ],
);

export type ConversationRow = typeof conversations.$inferSelect;
export type MemberRow = typeof conversationMembers.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type EnvelopeRow = typeof envelopes.$inferSelect;
export type EventRow = typeof events.$inferSelect;
