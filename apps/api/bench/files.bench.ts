// `pnpm bench` (files part): a 256 MiB file end to end (encrypt, upload, download, decrypt)
// next to the same bytes moved over the same HTTP routes unencrypted, in the same run, against
// a real server process. Writes bench/results/files.json.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient, openFile, uploadFile, type FileTransport } from '@securechat/client';
import WebSocket from 'ws';

const SIZE = 256 * 1024 * 1024;
const MiB = 1024 * 1024;
const apiRoot = fileURLToPath(new URL('..', import.meta.url));

const dataDir = mkdtempSync(join(tmpdir(), 'securechat-files-bench-'));
const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
  cwd: apiRoot,
  env: {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    MAX_FILE_BYTES: String(300 * MiB),
    FILE_QUOTA_BYTES: String(4096 * MiB),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve) =>
  createInterface({ input: server.stdout! }).on('line', (line) => {
    if (line.includes('server.listening')) resolve(JSON.parse(line).port);
  }),
);
const url = `http://127.0.0.1:${port}`;
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) * 1024;

const client = createClient({
  url,
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
});
await client.auth.register(`bench-${randomBytes(4).toString('hex')}`, 'a long benchmark password');
const { id: conversationId } = await client.api.conversations.openNotes.mutate();
const transport: FileTransport = {
  api: client.api,
  baseUrl: new URL(url),
  fetch: globalThis.fetch,
  authorization: () => `Bearer ${client.token}`,
};
const data = randomBytes(SIZE);
const expected = createHash('sha256').update(data).digest('hex');

function chunks(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += MiB)));
    },
  });
}

async function timed<T>(
  fn: () => Promise<T>,
): Promise<{ seconds: number; value: T; peakRss: number }> {
  let peak = rss();
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
  const start = performance.now();
  const value = await fn();
  clearInterval(sampler);
  return { seconds: (performance.now() - start) / 1000, value, peakRss: peak };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return hash.digest('hex');
    hash.update(value);
  }
}

const baselineRss = rss();
// Encrypted: encrypt while uploading, then download while verifying and decrypting.
const up = await timed(() =>
  uploadFile(transport, conversationId, chunks(data), {
    name: 'bench.bin',
    mime: 'application/octet-stream',
    size: SIZE,
  }),
);
const down = await timed(() => drain(openFile(transport, up.value)));
if (down.value !== expected) throw new Error('encrypted round trip returned different bytes');

// Plain: the same bytes over the same PUT/GET routes, no encryption.
let plainId = '';
const plainUp = await timed(async () => {
  ({ fileId: plainId } = await client.api.files.createUpload.mutate({
    conversationId,
    size: SIZE,
  }));
  const response = await fetch(`${url}/files/${plainId}`, {
    method: 'PUT',
    body: chunks(data),
    headers: { authorization: `Bearer ${client.token}` },
    duplex: 'half',
  } as RequestInit);
  if (response.status !== 201) throw new Error(`plain upload: ${response.status}`);
  await client.api.files.complete.mutate({ fileId: plainId, sha256: expected });
});
const plainDown = await timed(async () => {
  const response = await fetch(`${url}/files/${plainId}`, {
    headers: { authorization: `Bearer ${client.token}` },
  });
  return drain(response.body!);
});
if (plainDown.value !== expected) throw new Error('plain round trip returned different bytes');

const mibps = (seconds: number) => Math.round((SIZE / MiB / seconds) * 10) / 10;
const results = {
  generatedAt: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(),
  },
  fileMiB: SIZE / MiB,
  encrypted: {
    uploadSeconds: up.seconds,
    uploadMiBps: mibps(up.seconds),
    downloadSeconds: down.seconds,
    downloadMiBps: mibps(down.seconds),
    roundTripSeconds: up.seconds + down.seconds,
  },
  plain: {
    uploadSeconds: plainUp.seconds,
    uploadMiBps: mibps(plainUp.seconds),
    downloadSeconds: plainDown.seconds,
    downloadMiBps: mibps(plainDown.seconds),
    roundTripSeconds: plainUp.seconds + plainDown.seconds,
  },
  encryptedOverPlain:
    Math.round(((up.seconds + down.seconds) / (plainUp.seconds + plainDown.seconds)) * 100) / 100,
  serverMemory: {
    baselineMiB: Math.round(baselineRss / MiB),
    peakMiB: Math.round(
      Math.max(up.peakRss, down.peakRss, plainUp.peakRss, plainDown.peakRss) / MiB,
    ),
  },
  note: 'client (encryption), server and disk share the same 2 cores over loopback; server memory is the server process RSS',
};
mkdirSync(join(apiRoot, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(apiRoot, 'bench', 'results', 'files.json'),
  `${JSON.stringify(results, null, 2)}\n`,
);
console.table({
  encrypted: {
    'upload MiB/s': results.encrypted.uploadMiBps,
    'download MiB/s': results.encrypted.downloadMiBps,
    'round trip s': results.encrypted.roundTripSeconds.toFixed(2),
  },
  plain: {
    'upload MiB/s': results.plain.uploadMiBps,
    'download MiB/s': results.plain.downloadMiBps,
    'round trip s': results.plain.roundTripSeconds.toFixed(2),
  },
});
console.log(
  `server RSS ${results.serverMemory.baselineMiB} MiB -> peak ${results.serverMemory.peakMiB} MiB; encrypted/plain time ${results.encryptedOverPlain}`,
);
client.close();
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
rmSync(dataDir, { recursive: true, force: true });
