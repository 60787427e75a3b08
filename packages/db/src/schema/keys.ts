import { blob, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './users.ts';

/**
 * The key directory. Every key blob is signed by its owner's keys and opaque to the server,
 * which keeps only the columns it needs to route: whose it is and which device it belongs to.
 */

/** A user's signed device list (the USK signs it; versions only go up). */
export const deviceLists = sqliteTable('device_lists', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  version: integer('version').notNull(),
  /** The user signing key's public half, so contacts can pin it on first use. */
  signingKey: blob('signing_key', { mode: 'buffer' }).notNull(),
  list: blob('list', { mode: 'buffer' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

/**
 * Every device list a user has published, so a contact who pinned an older version can verify
 * the hash chain up to the newest (a gap would be indistinguishable from a hidden version).
 */
export const deviceListVersions = sqliteTable(
  'device_list_versions',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    list: blob('list', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.version] })],
);

/** One row per device of a user, for routing envelopes and events. */
export const devices = sqliteTable(
  'devices',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The device certificate, signed by the user signing key. */
    cert: blob('cert', { mode: 'buffer' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }).notNull(),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
    /**
     * A name the user gave the device after adding it, signed by the user signing key so the
     * server cannot change it (the certificate's name otherwise).
     */
    signedName: blob('signed_name', { mode: 'buffer' }),
    /** The newest event when the device was added: a first subscription starts after it. */
    createdAfterEventId: integer('created_after_event_id').notNull().default(0),
  },
  (t) => [index('devices_user_id_idx').on(t.userId)],
);

/** The current signed prekey of each device. */
export const signedPrekeys = sqliteTable('signed_prekeys', {
  deviceId: text('device_id')
    .primaryKey()
    .references(() => devices.id, { onDelete: 'cascade' }),
  prekeyId: integer('prekey_id').notNull(),
  bundle: blob('bundle', { mode: 'buffer' }).notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** One-time prekeys: each is handed out once, then deleted. */
export const oneTimePrekeys = sqliteTable(
  'one_time_prekeys',
  {
    deviceId: text('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    prekeyId: integer('prekey_id').notNull(),
    bundle: blob('bundle', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.prekeyId] })],
);

/** Secrets encrypted under the user's recovery key (the server cannot open them). */
export const secretStorage = sqliteTable(
  'secret_storage',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    value: blob('value', { mode: 'buffer' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.name] })],
);

export type DeviceRow = typeof devices.$inferSelect;
export type DeviceListRow = typeof deviceLists.$inferSelect;
