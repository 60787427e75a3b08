import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { conversations } from './conversations.ts';
import { users } from './users.ts';

export const FILE_STATUSES = ['uploading', 'complete'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/**
 * An encrypted blob (§3.8). The server knows its size, hash, conversation and uploader; its
 * contents, name and type are inside the encryption. The blob lives under the data directory at
 * a path made only from the random id.
 */
export const files = sqliteTable(
  'files',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    uploaderUserId: text('uploader_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: FILE_STATUSES }).notNull(),
    /** Ciphertext size in bytes, declared before the upload and checked at its end. */
    size: integer('size').notNull(),
    /**
     * SHA-256 of the ciphertext (hex) as the server computed it while receiving; `files.complete`
     * accepts the file only if it equals the hash the client declares.
     */
    sha256: text('sha256'),
    /** The message that carries this file's key, once sent; deleting it deletes the file. */
    messageClientId: text('message_client_id'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    completedAt: integer('completed_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('files_conversation_idx').on(t.conversationId, t.createdAt),
    index('files_uploader_idx').on(t.uploaderUserId),
    index('files_message_idx').on(t.conversationId, t.messageClientId),
  ],
);

export type FileRow = typeof files.$inferSelect;
