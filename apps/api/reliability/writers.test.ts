import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDb, integrityCheck, messagePage } from '@securechat/db';
import { afterAll, expect, test } from 'vitest';
import { seed } from '../bench/lib/seed.ts';
import type { WriterConfig, WriterReport } from './lib/writer-process.ts';
import { profile } from './profile.ts';
import { recordResult } from './results.ts';
import { createRunDir } from './server.ts';

/**
 * Concurrent writer processes on one SQLite file, each through packages/db with the server's
 * settings (WAL, busy timeout, immediate transactions): none may fail with SQLITE_BUSY.
 */
const { processes, transactionsEach } = profile.writers;
const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`writer exited (${code}) before "${type}"`)));
  });
}

test(`${processes} writer processes × ${transactionsEach} transactions: no SQLITE_BUSY`, async () => {
  const dir = createRunDir('writers');
  const seeded = seed(dir.dataDir, { groupSize: processes });
  const conversation = seeded.groups[0]!;
  const path = join(dir.dataDir, 'securechat.db');
  for (const member of conversation.members) {
    const child = fork(join(API_DIR, 'reliability/lib/writer-process.ts'), [], {
      cwd: API_DIR,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const config: WriterConfig = {
      path,
      transactions: transactionsEach,
      conversationId: conversation.id,
      epoch: conversation.epoch,
      userId: member.id,
      deviceId: member.deviceId,
    };
    child.send({ type: 'start', config });
  }
  await Promise.all(children.map((child) => next(child, 'ready')));
  const started = performance.now();
  const done = children.map((child) => next<WriterReport>(child, 'done'));
  for (const child of children) child.send({ type: 'go' });
  const reports = await Promise.all(done);
  const seconds = (performance.now() - started) / 1000;

  const handle = createDb(path);
  const integrity = integrityCheck(handle);
  const rows = messagePage(handle.db, conversation.id, null, 10_000_000);
  handle.close();
  const seqs = new Set(rows.map((r) => r.seq));
  const busy = reports.reduce((n, r) => n + r.busy, 0);
  const committed = reports.reduce((n, r) => n + r.committed, 0);
  const otherErrors = reports.flatMap((r) => r.otherErrors);
  const total = processes * transactionsEach;
  const slowest = Math.max(...reports.map((r) => r.maxTransactionMs));

  recordResult({
    property: `${processes} concurrent writer processes × ${transactionsEach.toLocaleString('en')} transactions on one SQLite file`,
    target: '0 SQLITE_BUSY',
    measured:
      `${busy} SQLITE_BUSY, ${otherErrors.length} other errors; ${committed.toLocaleString('en')} of ` +
      `${total.toLocaleString('en')} committed in ${seconds.toFixed(1)} s (${Math.round(committed / seconds)}/s), ` +
      `slowest transaction ${slowest.toFixed(0)} ms; ${rows.length} rows, seqs ${seqs.size === rows.length && rows[0]?.seq === rows.length ? 'contiguous' : 'NOT contiguous'}; integrity ${integrity.join(', ')}`,
    pass:
      busy === 0 &&
      otherErrors.length === 0 &&
      committed === total &&
      rows.length === total &&
      seqs.size === total &&
      integrity.join() === 'ok',
  });
  expect(busy).toBe(0);
  expect(otherErrors).toEqual([]);
  expect(committed).toBe(total);
  expect(rows.length).toBe(total);
  expect(seqs.size).toBe(total);
  expect(integrity).toEqual(['ok']);
});
