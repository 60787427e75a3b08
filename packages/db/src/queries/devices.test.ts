import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../client.ts';
import { runMigrations } from '../migrate.ts';
import {
  approveLinkRequest,
  createLinkRequest,
  deleteExpiredLinkRequests,
  linkRequestOfSession,
} from './devices.ts';
import { insertUser } from './users.ts';

let opened: { handle: DbHandle; dir: string } | undefined;
afterEach(() => {
  opened?.handle.close();
  if (opened) rmSync(opened.dir, { recursive: true, force: true });
  opened = undefined;
});

it('deletes expired link requests, envelope and all, and keeps live ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'securechat-db-'));
  const handle = createDb(join(dir, 'test.db'));
  opened = { handle, dir };
  runMigrations(handle.db);
  const { db } = handle;
  const t0 = new Date('2026-01-01T00:00:00Z');
  const userId = 'a'.repeat(32);
  insertUser(db, { id: userId, username: 'linker', passwordHash: 'x', createdAt: t0 });
  const request = (sessionId: string, minutes: number) => ({
    handle: sessionId.repeat(32),
    userId,
    sessionId,
    request: Buffer.from('sealed request'),
    expiresAt: new Date(t0.getTime() + minutes * 60_000),
  });
  expect(createLinkRequest(db, request('1', 10), 5, t0)).toBe('ok');
  expect(createLinkRequest(db, request('2', 30), 5, t0)).toBe('ok');
  const approval = {
    userId,
    envelope: Buffer.from('envelope'),
    approvedByDeviceId: 'b'.repeat(32),
  };
  expect(approveLinkRequest(db, { ...approval, handle: '1'.repeat(32) }, t0)).toBe('ok');

  expect(deleteExpiredLinkRequests(db, new Date(t0.getTime() + 5 * 60_000))).toBe(0);
  expect(deleteExpiredLinkRequests(db, new Date(t0.getTime() + 10 * 60_000))).toBe(1);
  expect(linkRequestOfSession(db, '1', '1'.repeat(32))).toBeUndefined();
  expect(linkRequestOfSession(db, '2', '2'.repeat(32))?.expiresAt).toEqual(
    new Date(t0.getTime() + 30 * 60_000),
  );
});
