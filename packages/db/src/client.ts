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

const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

export interface CreateDbOptions {
  /**
   * How long a writer waits for another connection's lock before SQLITE_BUSY, in ms (30 s by
   * default: on a loaded machine a writer queued behind others can wait seconds for its turn,
   * and waiting is always better than failing a write).
   */
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
  sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
  const db = drizzle(sqlite, { schema });
  return {
    db,
    sqlite,
    close() {
      if (sqlite.open) sqlite.close();
    },
  };
}

/**
 * SQLite's full integrity check of an open database: `['ok']` when every page, index and
 * constraint is sound, otherwise the problems found (at most 100).
 */
export function integrityCheck(handle: DbHandle): string[] {
  const rows = handle.sqlite.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((row) => row.integrity_check);
}
