import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AuthenticationError } from '@securechat/crypto';
import { openFile, uploadFile, type FileTransport } from '@securechat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, nodeClient, startTestServer, uniqueName, type TestServer } from './harness.ts';

async function transportFor(url: string): Promise<{ t: FileTransport; conversationId: string }> {
  const client = nodeClient(url);
  await client.auth.register(uniqueName('files'), PASSWORD);
  const { id } = await client.api.conversations.openNotes.mutate();
  return {
    conversationId: id,
    t: {
      api: client.api,
      baseUrl: new URL(url),
      fetch: globalThis.fetch,
      authorization: () => `Bearer ${client.token}`,
    },
  };
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: Buffer.concat(chunks), error: null };
      chunks.push(value);
    }
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('encrypted files through the client', () => {
  for (const size of [0, 1, 16 * 1024, 16 * 1024 + 1]) {
    it(`round-trips ${size} bytes: encrypted up, verified and decrypted down`, async () => {
      const { t, conversationId } = await transportFor(server.url);
      const plaintext = randomBytes(size);
      const ref = await uploadFile(t, conversationId, plaintext, {
        name: 'a.bin',
        mime: 'application/octet-stream',
      });
      expect(ref.ptLength).toBe(size);
      const { bytes, error } = await readAll(openFile(t, ref));
      expect(error).toBeNull();
      expect(bytes.equals(plaintext)).toBe(true);
    });
  }

  it('refuses a blob tampered with on the server, releasing nothing from the bad chunk on', async () => {
    const { t, conversationId } = await transportFor(server.url);
    const plaintext = randomBytes(100 * 1024);
    const ref = await uploadFile(t, conversationId, plaintext, {
      name: 'b.bin',
      mime: 'application/octet-stream',
    });
    const id = Buffer.from(ref.fileId).toString('hex');
    const path = join(server.dataDir, 'files', id.slice(0, 2), id);
    const blob = readFileSync(path);
    // Flip one bit inside the third chunk's ciphertext.
    blob[56 + 2 * (16384 + 16) + 100]! ^= 1;
    writeFileSync(path, blob);
    const { bytes, error } = await readAll(openFile(t, ref));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(bytes.length).toBeLessThanOrEqual(2 * 16384);
    expect(bytes.equals(plaintext.subarray(0, bytes.length))).toBe(true);
  });

  it("keeps a file's bytes off the server's disk in plaintext", async () => {
    const { t, conversationId } = await transportFor(server.url);
    const canary = `file-canary-${randomBytes(8).toString('hex')}`;
    const plaintext = Buffer.from(`${canary}\n`.repeat(2000));
    const ref = await uploadFile(t, conversationId, plaintext, {
      name: `${canary}.txt`,
      mime: 'text/plain',
    });
    expect((await readAll(openFile(t, ref))).bytes.equals(plaintext)).toBe(true);
    for (const file of filesUnder(server.dataDir)) {
      expect(readFileSync(file).includes(canary), file).toBe(false);
    }
  });
});

describe('a 200 MiB file', () => {
  it('round-trips with the server process staying under 64 MiB of extra memory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'securechat-big-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        MAX_FILE_BYTES: String(256 * 1024 * 1024),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve) =>
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.includes('server.listening')) resolve(JSON.parse(line).port);
        }),
      );
      const rss = () =>
        Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
      const { t, conversationId } = await transportFor(`http://127.0.0.1:${port}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const baseline = rss();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);

      const size = 200 * 1024 * 1024;
      const sent = createHash('sha256');
      let produced = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= size) return controller.close();
          const chunk = randomBytes(Math.min(1024 * 1024, size - produced));
          produced += chunk.length;
          sent.update(chunk);
          controller.enqueue(chunk);
        },
      });
      const ref = await uploadFile(t, conversationId, source, {
        name: 'big.bin',
        mime: 'application/octet-stream',
        size,
      });
      const blob = join(
        dataDir,
        'files',
        Buffer.from(ref.fileId).toString('hex').slice(0, 2),
        Buffer.from(ref.fileId).toString('hex'),
      );
      expect(statSync(blob).size).toBe(ref.ctLength);

      const received = createHash('sha256');
      let length = 0;
      const reader = openFile(t, ref).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received.update(value);
        length += value.length;
      }
      clearInterval(sampler);
      expect(length).toBe(size);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
      const growth = peak - baseline;
      console.log(
        `200 MiB round trip: server RSS ${Math.round(baseline / 2 ** 20)} MiB -> peak ${Math.round(peak / 2 ** 20)} MiB (+${Math.round(growth / 2 ** 20)} MiB)`,
      );
      expect(growth).toBeLessThan(64 * 1024 * 1024);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
