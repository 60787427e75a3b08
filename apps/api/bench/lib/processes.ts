import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ProbeReply } from './probe.ts';
import type { ReceiverCounts, ReceiversConfig } from '../receivers.ts';

/** apps/api: the working directory of every child, so `--import tsx` resolves. */
export const API_DIR = fileURLToPath(new URL('../..', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

const children = new Set<ChildProcess>();

let ticksPerSecond: number | null = null;

/**
 * CPU time the whole machine has spent busy so far (all cores, everything but idle and iowait),
 * µs, from /proc/stat. Set against our own processes it shows what others ran meanwhile: this
 * machine may be shared, and a benchmark must say when it was.
 */
export function machineBusyMicros(): number | null {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return (busy / ticksPerSecond) * 1e6;
  } catch {
    return null;
  }
}
/** CPU time (user + system) a process has used so far, µs, from /proc; null if unreadable. */
export function processCpuMicros(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks / ticksPerSecond) * 1e6;
  } catch {
    return null;
  }
}
const tempDirs = new Set<string>();

/** Kills every child still running and removes every temp dir: on exit, error or Ctrl-C. */
export function cleanupAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export function trackTempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Ends a child politely (SIGTERM, or `stop` over IPC), then by force after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Asks a child running lib/probe.ts for its CPU time and memory (after GC when `gc`). */
export function probe(child: ChildProcess, gc = false, heapSnapshot?: string): Promise<ProbeReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('probe timed out'));
    }, 120_000);
    const onMessage = (message: unknown) => {
      if ((message as { type?: string })?.type !== 'probe') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as ProbeReply);
    };
    child.on('message', onMessage);
    child.send({ type: 'probe', gc, heapSnapshot });
  });
}

/** Starts or stops a CPU profile in a child running lib/probe.ts (stop writes `file`). */
export function profile(child: ChildProcess, action: 'start' | 'stop', file?: string) {
  return new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => {
      if ((message as { type?: string })?.type !== 'profile') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send({ type: 'profile', action, file });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  port: number;
  /** Server log lines at warn level or above (they should be none). */
  problems: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real API server (src/main.ts, unchanged) as its own process, with the probe
 * preloaded. Logs at info so the `server.listening` line gives the port; nothing on the hot path
 * logs at info.
 */
export async function startApiServer(dataDir: string): Promise<RunningProcess> {
  // For investigation, e.g. BENCH_SERVER_FLAGS=--trace-gc BENCH_SERVER_STDOUT=/tmp/server.log
  const extraFlags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  const stdoutFile = process.env.BENCH_SERVER_STDOUT;
  const args = [
    '--expose-gc',
    ...extraFlags,
    '--import',
    'tsx',
    '--import',
    './bench/server-probe.ts',
    'src/main.ts',
  ];
  const child = track(
    spawn(process.execPath, args, {
      cwd: API_DIR,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        // The benchmark is one sender posting thousands of messages a minute.
        RATE_LIMIT_PER_MINUTE: '1000000',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  const problems: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 50) stderr.push(line);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('API server did not start in 30 s')), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API server exited (${code}): ${stderr.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { event?: string; port?: number; level?: number; msg?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        if (stdoutFile) appendFileSync(stdoutFile, `${line}\n`);
        return;
      }
      if (entry.event === 'server.listening' && entry.port) {
        clearTimeout(timer);
        resolve(entry.port);
      } else if ((entry.level ?? 0) >= 40 && problems.length < 20) {
        problems.push(line.slice(0, 500));
      }
    });
  });
  return { child, port, problems, stop: () => stopChild(child) };
}

/** Starts the raw `ws` reference server (raw-server.ts) in `plain` or `corked` mode. */
export async function startRawServer(mode: 'plain' | 'corked'): Promise<RunningProcess> {
  const child = track(
    spawn(process.execPath, ['--expose-gc', '--import', 'tsx', './bench/raw-server.ts'], {
      cwd: API_DIR,
      env: { ...process.env, RAW_MODE: mode },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw server did not start')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { event?: string; port?: number };
        if (entry.event === 'listening' && entry.port) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not ours
      }
    });
  });
  return { child, port, problems: [], stop: () => stopChild(child) };
}

export interface StartedReport {
  opened: number;
  subscribed: number;
  failures: string[];
  failureCount: number;
  errors: string[];
  errorCount: number;
  ms: number;
}

export interface ReceiverGroup {
  started: StartedReport;
  pids: number[];
  counts(): Promise<ReceiverCounts>;
  settle(): void;
  stop(): Promise<void>;
}

function request<T>(child: ChildProcess, message: unknown, replyType: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`receivers did not answer ${replyType}`));
    }, 180_000);
    const onMessage = (reply: unknown) => {
      if ((reply as { type?: string })?.type !== replyType) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply as T);
    };
    child.on('message', onMessage);
    child.send(message as object);
  });
}

/**
 * Spreads `count` cheap receiving sockets over `processes` generator processes (each process may
 * hold at most ~19,000 sockets: the fd limit is per process) and waits until all are connected
 * (and, in trpc mode, subscribed or refused).
 */
export async function startReceivers(
  base: Omit<ReceiversConfig, 'tokens' | 'count'>,
  tokens: string[] | null,
  count: number,
  processes: number,
): Promise<ReceiverGroup> {
  const parts: ChildProcess[] = [];
  const starts: Promise<StartedReport>[] = [];
  let offset = 0;
  for (let p = 0; p < processes; p++) {
    const n = Math.floor(count / processes) + (p < count % processes ? 1 : 0);
    const child = track(
      fork(`${BENCH_DIR}receivers.ts`, [], {
        cwd: API_DIR,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    parts.push(child);
    const config: ReceiversConfig = {
      ...base,
      count: n,
      tokens: tokens ? tokens.slice(offset, offset + n) : [],
    };
    offset += n;
    starts.push(request<StartedReport>(child, { type: 'start', config }, 'started'));
  }
  const reports = await Promise.all(starts);
  const started: StartedReport = {
    opened: 0,
    subscribed: 0,
    failures: [],
    failureCount: 0,
    errors: [],
    errorCount: 0,
    ms: 0,
  };
  for (const r of reports) {
    started.opened += r.opened;
    started.subscribed += r.subscribed;
    started.failures.push(...r.failures);
    started.failureCount += r.failureCount;
    started.errors.push(...r.errors);
    started.errorCount += r.errorCount;
    started.ms = Math.max(started.ms, r.ms);
  }
  return {
    started,
    pids: parts.map((child) => child.pid!),
    async counts() {
      const all = await Promise.all(
        parts.map((child) =>
          request<{ counts: ReceiverCounts }>(child, { type: 'counts' }, 'counts'),
        ),
      );
      const sum: ReceiverCounts = {
        messages: 0,
        messageBytes: 0,
        otherFrames: 0,
        open: 0,
        closed: 0,
        closeCodes: {},
      };
      for (const { counts } of all) {
        sum.messages += counts.messages;
        sum.messageBytes += counts.messageBytes;
        sum.otherFrames += counts.otherFrames;
        sum.open += counts.open;
        sum.closed += counts.closed;
        for (const [code, n] of Object.entries(counts.closeCodes)) {
          sum.closeCodes[code] = (sum.closeCodes[code] ?? 0) + n;
        }
      }
      return sum;
    },
    settle() {
      for (const child of parts) child.send({ type: 'settle' });
    },
    async stop() {
      await Promise.all(
        parts.map(async (child) => {
          if (child.exitCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.send({ type: 'stop' });
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
