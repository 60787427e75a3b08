import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startApp, type App, type StartAppOptions } from '../src/app.ts';
import { loadConfig } from '../src/env.ts';
import { createLogger } from '../src/logger.ts';
import { runRoot } from './results.ts';

/** apps/api: the working directory of server processes, so `--import tsx` resolves. */
const API_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Where one server of the suite keeps everything: its data directory (SQLite file, WAL, file
 * store) and its log. Kept after the test, for the canary scan; the whole run directory is
 * cleared when the next run starts.
 */
export interface RunDir {
  root: string;
  dataDir: string;
  logFile: string;
}

/** A fresh run directory named after `name` (made unique), under test-results/reliability/run. */
export function createRunDir(name: string): RunDir {
  const safe = name.replace(/[^a-zA-Z0-9._-]+/g, '-');
  const root = join(runRoot, `${safe}-${randomBytes(3).toString('hex')}`);
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  return { root, dataDir, logFile: join(root, 'server.log') };
}

/** Settings every server of the suite shares; tests override any of them. */
function baseEnv(dataDir: string): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    // Load tests send far more than a person would; tests of the limiter set their own.
    RATE_LIMIT_PER_MINUTE: '1000000',
  };
}

export interface ReliabilityServer {
  app: App;
  url: string;
  port: number;
  dir: RunDir;
  /** Everything the server logged, one JSON line each (also in `dir.logFile`). */
  logs: string[];
  /** Stops the server; the run directory stays for the canary scan. */
  close(): Promise<void>;
}

/**
 * Starts the real app in this process on 127.0.0.1, port 0, with its data directory and log
 * file under a run directory (pass `dir` to reopen an earlier server's data).
 */
export async function startReliabilityServer(
  name: string,
  env: Record<string, string> = {},
  options: StartAppOptions & { dir?: RunDir } = {},
): Promise<ReliabilityServer> {
  const dir = options.dir ?? createRunDir(name);
  const config = loadConfig({ ...baseEnv(dir.dataDir), ...env });
  const file = createWriteStream(dir.logFile, { flags: 'a' });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      file.write(chunk, callback);
    },
  });
  const app = await startApp(config, createLogger(config.logLevel, sink), options);
  return {
    app,
    url: `http://127.0.0.1:${app.port}`,
    port: app.port,
    dir,
    logs,
    async close() {
      await app.close();
      await closeStream(file);
    },
  };
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  dir: RunDir;
  /** Server log lines at warn level or above, as they arrive. */
  problems: string[];
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGKILL by default: no cleanup at all) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Graceful stop (SIGTERM), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test that fails half-way must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the real server entry point (src/main.ts, as `node --import tsx`) as its own process,
 * with the same layout as the in-process server: pass `dir` to restart on an earlier data
 * directory (the log file is appended to). stdout and stderr go to the log file.
 */
export async function startServerProcess(
  name: string,
  env: Record<string, string> = {},
  dir: RunDir = createRunDir(name),
  options: {
    /** Extra Node flags, after tsx is loaded and before the entry point (paths relative to apps/api). */
    nodeArgs?: string[];
    /** Opens an IPC channel (for bench/server-probe.ts, preloaded with `nodeArgs`). */
    ipc?: boolean;
  } = {},
): Promise<ServerProcess> {
  const args = ['--import', 'tsx', ...(options.nodeArgs ?? []), 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: API_DIR,
    env: { ...process.env, ...baseEnv(dir.dataDir), ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const log = createWriteStream(dir.logFile, { flags: 'a' });
  child.stderr!.pipe(log, { end: false });
  let openStreams = 2;
  const streamClosed = () => {
    openStreams -= 1;
    if (openStreams === 0) log.end();
  };
  child.stdout!.once('close', streamClosed);
  child.stderr!.once('close', streamClosed);
  const problems: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 50) stderr.push(line);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 60 s')), 60_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) while starting: ${stderr.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      let entry: { event?: string; port?: number; level?: number };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.event === 'server.listening' && entry.port) {
        clearTimeout(timer);
        resolve(entry.port);
      } else if ((entry.level ?? 0) >= 40 && problems.length < 100) {
        problems.push(line.slice(0, 1000));
      }
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    child,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    problems,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await kill('SIGTERM');
      clearTimeout(timer);
    },
  };
}
