import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, integrityCheck, messagePage } from '@securechat/db';
import { afterAll, expect, test } from 'vitest';
import { seed } from '../bench/lib/seed.ts';
import { createHttpCaller, type CallResult } from './lib/trpc-http.ts';
import { recordResult } from './results.ts';
import { createRunDir, startServerProcess, type ServerProcess } from './server.ts';

/**
 * Disk full: the server's data directory is a small tmpfs (mounting one needs root), filled up
 * while the server runs. Sends must fail with a typed error and never be acknowledged unless
 * stored, the server must stay up, and sends must succeed again once space is freed.
 */
const PROPERTY = 'Disk full (small tmpfs as the data directory)';
const TARGET =
  'no crash; failed writes get a typed error and no ack; writes resume when space returns';
const TMPFS_BYTES = 24 * 1024 * 1024;
const UPLOAD_BYTES = 2 * 1024 * 1024;

const dir = createRunDir('disk-full');
let mounted = false;
let server: ServerProcess | null = null;

function tryMount(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root, so no tmpfs can be mounted';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir.dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    mounted = true;
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `mount -t tmpfs failed: ${stderr || String(error)}`;
  }
}

afterAll(async () => {
  await server?.kill();
  if (mounted) {
    // Keep what the server wrote for the canary scan, then give the mount back.
    cpSync(dir.dataDir, join(dir.root, 'data-copy'), { recursive: true });
    try {
      execFileSync('umount', [dir.dataDir]);
    } catch {
      execFileSync('umount', ['-l', dir.dataDir]); // still busy: detach it now, free it when idle
    }
  }
});

/** Writes zeros into `file` until the file system refuses: returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
    // Whatever is left below one chunk.
    for (let size = 32 * 1024; size >= 512; size /= 2) {
      try {
        written += writeSync(fd, chunk.subarray(0, size));
      } catch {
        // try smaller
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

test('disk full: no crash, no ack of a failed write, writes resume once space returns', async (context) => {
  const skipReason = tryMount();
  if (skipReason) {
    console.log(`disk-full test skipped: ${skipReason}`);
    recordResult({
      property: PROPERTY,
      target: TARGET,
      measured: `skipped: ${skipReason}`,
      pass: true,
      skipped: true,
    });
    context.skip(skipReason);
    return;
  }
  const seeded = seed(dir.dataDir, { groupSize: 2 });
  const conversation = seeded.groups[0]!;
  const sender = conversation.members[0]!;
  server = await startServerProcess('disk-full', {}, dir);
  const caller = createHttpCaller(server.port, 4);
  const acked = new Map<string, number>();
  const failed: { id: string; result: CallResult }[] = [];
  const send = async () => {
    const clientMessageId = randomBytes(16).toString('hex');
    const result = await caller.mutate(
      'messages.send',
      {
        conversationId: conversation.id,
        epoch: conversation.epoch,
        clientMessageId,
        sentAt: new Date(),
        ciphertext: randomBytes(8 * 1024).toString('base64url'),
      },
      sender.token,
    );
    if (result.ok) acked.set(clientMessageId, (result.data as { seq: number }).seq);
    else failed.push({ id: clientMessageId, result });
    return result;
  };

  /** Uploads `bytes` random bytes to the file store as the client does: reserve, then PUT. */
  const upload = async (reserved: { fileId: string }) => {
    const response = await fetch(`${server!.url}/files/${reserved.fileId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${sender.token}` },
      body: randomBytes(UPLOAD_BYTES),
    }).catch((error: Error) => ({ status: 0, json: async () => ({ error: error.message }) }));
    return { status: response.status, body: (await response.json().catch(() => null)) as unknown };
  };
  const reserve = async () => {
    const result = await caller.mutate(
      'files.createUpload',
      { conversationId: conversation.id, size: UPLOAD_BYTES },
      sender.token,
    );
    if (!result.ok) throw new Error(`createUpload: ${result.message}`);
    return result.data as { fileId: string };
  };

  for (let i = 0; i < 20; i++) expect((await send()).ok).toBe(true);
  expect((await upload(await reserve())).status).toBe(201);
  const ackedBefore = acked.size;
  // Reserved before the disk fills, so the upload itself meets the full disk.
  const pendingUpload = await reserve();

  // Fill the disk, then keep sending until the writes have failed many times in a row.
  const filler = join(dir.dataDir, 'filler');
  const filled = fill(filler);
  let inARow = 0;
  let attempts = 0;
  while (inARow < 25 && attempts < 5000) {
    attempts += 1;
    inARow = (await send()).ok ? 0 : inARow + 1;
  }
  const ackedWhileFull = acked.size - ackedBefore;
  const uploadWhileFull = await upload(pendingUpload);
  const health = await fetch(`${server.url}/healthz`)
    .then((r) => r.status)
    .catch(() => 0);
  const aliveWhileFull = server.child.exitCode === null && server.child.signalCode === null;

  // Space returns.
  rmSync(filler);
  let recovered = 0;
  for (let i = 0; i < 50; i++) if ((await send()).ok) recovered += 1;
  const uploadAfter = await upload(await reserve());
  caller.close();
  const problems = [...server.problems];
  await server.stop();
  const exit = await server.exited;

  const handle = createDb(join(dir.dataDir, 'securechat.db'));
  const integrity = integrityCheck(handle);
  const rows = messagePage(handle.db, conversation.id, null, 1_000_000);
  handle.close();
  const stored = new Map(rows.map((r) => [r.clientMessageId, r.seq]));
  const lost = [...acked].filter(([id, seq]) => stored.get(id) !== seq).length;
  const failedButStored = failed.filter((f) => stored.has(f.id)).length;
  const codes = new Map<string, number>();
  for (const f of failed) {
    const key = `${f.result.status} ${f.result.ok ? '' : f.result.code}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const untyped = failed.filter(
    (f) => !f.result.ok && (f.result.code === null || f.result.status === 500),
  );

  recordResult({
    property: PROPERTY,
    target: TARGET,
    measured:
      `${(TMPFS_BYTES / 1024 ** 2).toFixed(0)} MB tmpfs filled (${(filled / 1024 ** 2).toFixed(1)} MB filler); ` +
      `${ackedWhileFull} acked then ${failed.length} refused (${[...codes].map(([k, n]) => `${n}× ${k}`).join(', ')}), ` +
      `${untyped.length} untyped or 500; server ${aliveWhileFull && health === 200 ? 'up' : 'DOWN'} while full; ` +
      `file upload while full: ${uploadWhileFull.status} ${JSON.stringify(uploadWhileFull.body)}; ` +
      `after freeing space ${recovered}/50 sends succeeded and an upload got ${uploadAfter.status}; ${lost} acked lost, ${failedButStored} refused but stored; ` +
      `integrity ${integrity.join(', ')}; clean exit ${exit.code === 0 ? 'yes' : `no (${exit.code ?? exit.signal})`}`,
    pass:
      failed.length > 0 &&
      untyped.length === 0 &&
      aliveWhileFull &&
      health === 200 &&
      recovered === 50 &&
      uploadWhileFull.status === 503 &&
      uploadAfter.status === 201 &&
      lost === 0 &&
      failedButStored === 0 &&
      integrity.join() === 'ok',
  });
  expect(failed.length, 'the disk never filled up').toBeGreaterThan(0);
  expect(untyped.map((f) => f.result)).toEqual([]);
  expect(aliveWhileFull && health === 200).toBe(true);
  expect(recovered).toBe(50);
  expect(uploadWhileFull.status).toBe(503);
  expect(uploadAfter.status).toBe(201);
  expect(lost).toBe(0);
  expect(failedButStored).toBe(0);
  expect(integrity).toEqual(['ok']);
  expect(problems.filter((p) => !p.includes('storage'))).toEqual([]);
});
