import { blob, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './users.ts';

/**
 * Multi-device support (§3.3, §3.9): device-link requests relayed between a user's devices, and
 * the key backup. Every blob is opaque to the server: link requests are sealed under a key
 * derived from a secret the server never sees, and backup entries are HPKE ciphertexts to the
 * user's backup key.
 */

/**
 * A pending "link a new device" request (§3.3 flow A). The new device stores it; an existing
 * device of the same user finds it by `handle` (a hash of the link secret, which the person types
 * or scans), approves it and leaves the provisioning envelope here for the new device to fetch.
 */
export const linkRequests = sqliteTable(
  'link_requests',
  {
    /** SHA-256 of the link secret (truncated, hex): finds the request without revealing the secret. */
    handle: text('handle').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The new device's session: only it may read the result or withdraw the request. */
    sessionId: text('session_id').notNull(),
    /** The new device's public keys and name, sealed under a key derived from the link secret. */
    request: blob('request', { mode: 'buffer' }).notNull(),
    /** The provisioning envelope, once an existing device approved the request. */
    envelope: blob('envelope', { mode: 'buffer' }),
    approvedByDeviceId: text('approved_by_device_id'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('link_requests_user_id_idx').on(t.userId)],
);

/** The user's key-backup public key (X25519): devices seal new epoch secrets to it. */
export const keyBackups = sqliteTable('key_backups', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  publicKey: blob('public_key', { mode: 'buffer' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

/** One backed-up epoch secret per user, conversation and epoch (HPKE to the backup key). */
export const keyBackupEntries = sqliteTable(
  'key_backup_entries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id').notNull(),
    epoch: integer('epoch').notNull(),
    entry: blob('entry', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('key_backup_entries_unique').on(t.userId, t.conversationId, t.epoch)],
);

export type LinkRequestRow = typeof linkRequests.$inferSelect;
