import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from './client.ts';
import { runMigrations } from './migrate.ts';
import { insertUser, userByUsername } from './queries/users.ts';

const opened: { handle: DbHandle; dir: string }[] = [];
function openTemp(): DbHandle {
  const dir = mkdtempSync(join(tmpdir(), 'securechat-db-'));
  const handle = createDb(join(dir, 'test.db'));
  runMigrations(handle.db);
  opened.push({ handle, dir });
  return handle;
}
afterEach(() => {
  for (const { handle, dir } of opened.splice(0)) {
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('createDb', () => {
  it('opens with WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const { sqlite } = openTemp();
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(30_000);
  });

  it('applies migrations idempotently', () => {
    const { db } = openTemp();
    expect(() => runMigrations(db)).not.toThrow();
  });
});

describe('users', () => {
  it('treats usernames as unique whatever their letter case', () => {
    const { db } = openTemp();
    const base = { passwordHash: 'x', createdAt: new Date() };
    expect(insertUser(db, { id: 'a'.repeat(32), username: 'Alice', ...base })).not.toBeNull();
    expect(insertUser(db, { id: 'b'.repeat(32), username: 'aLICE', ...base })).toBeNull();
    expect(userByUsername(db, 'ALICE')?.id).toBe('a'.repeat(32));
  });
});
