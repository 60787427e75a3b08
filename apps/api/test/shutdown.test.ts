import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openRawSocket } from './raw-ws.ts';
import { PASSWORD, nodeClient, uniqueName } from './harness.ts';

const apiRoot = fileURLToPath(new URL('..', import.meta.url));

function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: apiRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.event === 'server.listening') resolve(entry.port);
      } catch {
        // not JSON: ignore
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  // A process that never listens rejects `port`; tests that expect that do not await it.
  port.catch(() => {});
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, port, exited, lines, stderr: () => stderr };
}

describe('the server process', () => {
  it('refuses to start on a bad variable, naming it and the reason', async () => {
    const { exited, stderr } = startProcess({ PORT: 'not-a-port' });
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/PORT: must be a number/);
  });

  it('on SIGTERM tells WebSocket clients to reconnect, stops accepting and exits cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'securechat-proc-'));
    try {
      const proc = startProcess({
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      });
      const port = await proc.port;
      const url = `http://127.0.0.1:${port}`;
      const client = nodeClient(url);
      await client.auth.register(uniqueName(), PASSWORD);
      const socket = await openRawSocket(url, { token: client.token! });
      socket.subscribe(1, 'auth.sessions.onChange');
      await socket.next((m) => m.id === 1 && m.result?.type === 'started');

      proc.child.kill('SIGTERM');
      expect((await socket.next((m) => m.method === 'reconnect')).id).toBeNull();
      expect((await socket.closed).code).toBe(1001);
      expect(await proc.exited).toBe(0);
      expect(proc.lines.some((line) => line.includes('server.stopped'))).toBe(true);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      client.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
