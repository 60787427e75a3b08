import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** apps/web */
export const webDir = fileURLToPath(new URL('..', import.meta.url));
/** The repository root. */
export const repoDir = join(webDir, '..', '..');
export const apiDir = join(repoDir, 'apps', 'api');
export const webDist = join(webDir, 'dist');

/** Builds apps/web into dist with Vite, as `pnpm start` does, so the server serves current code. */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, and Vite lets an existing NODE_ENV win over the build mode, which
  // would ship React's development build. Build exactly what production serves.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: webDir, mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

export interface ServerProcess {
  url: string;
  /** Everything the server printed, for diagnosing a failure. */
  output: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real API server (apps/api/src/main.ts) as its own process on a free port, with a
 * fresh data directory and the built web app, and waits for its `server.listening` log line.
 * `env` adds to or overrides the server's environment (e.g. a lower `MAX_FILE_BYTES`).
 */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'securechat-web-e2e-'));
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: apiDir,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEB_DIST: webDist,
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      ALLOWED_ORIGINS: '',
      SECURE_COOKIES: 'false',
      DEMO: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: child.stdout! });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000);
      lines.on('line', (line) => {
        output.push(line);
        try {
          const entry = JSON.parse(line) as { event?: string; port?: number };
          if (entry.event === 'server.listening' && typeof entry.port === 'number') {
            clearTimeout(timer);
            resolve(entry.port);
          }
        } catch {
          // Not a JSON log line (e.g. a warning from Node): keep it for diagnostics only.
        }
      });
      void exited.then(([code, signal]) => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening (code ${code}, signal ${signal})`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.join('\n')}`);
  }
}
