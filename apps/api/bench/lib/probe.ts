import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

/**
 * Answers the benchmark orchestrator's `probe` messages over the IPC channel with this process's
 * CPU time and memory (after a full GC when asked and when run with `--expose-gc`), so the
 * orchestrator reads the server's own numbers without any change to the server.
 */
export interface ProbeReply {
  type: 'probe';
  /** CPU time used so far, µs (user + system). */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
  /** Event-loop delay since the previous probe (p99 and max, ms): stalls show here. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface ProbeRequest {
  type: 'probe';
  gc?: boolean;
  /** Also writes a heap snapshot here (after the GC): what idle connections are made of. */
  heapSnapshot?: string;
}

/** Starts or stops (writing `file`) a CPU profile of just the measured interval. */
export interface ProfileRequest {
  type: 'profile';
  action: 'start' | 'stop';
  file?: string;
}

let session: Session | null = null;

function profile(message: ProfileRequest): void {
  const done = () => {
    process.send?.({ type: 'profile', action: message.action });
  };
  if (message.action === 'start') {
    session = new Session();
    session.connect();
    session.post('Profiler.enable', () => session!.post('Profiler.start', done));
    return;
  }
  if (!session) {
    done();
    return;
  }
  session.post('Profiler.stop', (error, result) => {
    if (!error && message.file) writeFileSync(message.file, JSON.stringify(result.profile));
    session?.disconnect();
    session = null;
    done();
  });
}

export function installProbe(): void {
  if (!process.send) return;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // The channel must not keep the process alive: the server exits on its own signals.
  process.channel?.unref();
  // Nor may the process outlive the benchmark that started it, however that one ended.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.on('message', (message: ProbeRequest | ProfileRequest) => {
    if (message?.type === 'profile') return profile(message);
    if (message?.type !== 'probe') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message.gc && gc) {
      gc();
      gc();
    }
    if (message.heapSnapshot) writeHeapSnapshot(message.heapSnapshot);
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const reply: ProbeReply = {
      type: 'probe',
      cpuMicros: cpu.user + cpu.system,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      gc: Boolean(message.gc && gc),
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
    };
    loopDelay.reset();
    process.send?.(reply);
  });
}
