import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** An account. `id` is 16 random bytes as lowercase hex, stable for the account's life. */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    /** Privacy: whether this user's read markers and typing notices are shared. */
    sendReadReceipts: integer('send_read_receipts', { mode: 'boolean' }).notNull().default(true),
    sendTyping: integer('send_typing', { mode: 'boolean' }).notNull().default(true),
  },
  (t) => [
    // Usernames are unique whatever their letter case; the index also serves sign-in look-ups.
    uniqueIndex('users_username_lower_unique').on(sql`lower(${t.username})`),
  ],
);

/**
 * A sign-in session, after Lucia's design: the client holds a random token and only its
 * SHA-256 (hex) is stored here, so a leaked database cannot be replayed as live sessions.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }).notNull(),
    userAgent: text('user_agent').notNull().default(''),
    /** The end-to-end device this session speaks for, once the device has registered. */
    deviceId: text('device_id'),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId)],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
