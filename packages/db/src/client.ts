import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import * as schema from './schema/index.ts';

/**
 * The Drizzle handle every query function takes: a database or a transaction on it, so query
 * functions compose inside a caller's transaction.
 */
export type Db = BaseSQLiteDatabase<'sync', Database.RunResult, typeof schema>;

/** An open database: the Drizzle handle plus the raw connection for pragmas and closing. */
export interface DbHandle {
  db: Db;
  sqlite: Database.Database;
  close(): void;
}

export interface CreateDbOptions {
  /** How long a writer waits for another connection's lock before SQLITE_BUSY, in ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite database at `path` with the settings the server relies
 * on: WAL so readers never block the writer, `synchronous=FULL` so an acknowledged write survives
 * power loss, foreign keys enforced, and a busy timeout so concurrent writers wait, not fail.
 * There is no module-level connection: each caller (server, test, tool) owns its own.
 */
export function createDb(path: string, options: CreateDbOptions = {}): DbHandle {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  const db = drizzle(sqlite, { schema });
  return {
    db,
    sqlite,
    close() {
      if (sqlite.open) sqlite.close();
    },
  };
}
