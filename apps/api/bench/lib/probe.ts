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
}

export interface ProbeRequest {
  type: 'probe';
  gc?: boolean;
}

export function installProbe(): void {
  if (!process.send) return;
  // The channel must not keep the process alive: the server exits on its own signals.
  process.channel?.unref();
  process.on('message', (message: ProbeRequest) => {
    if (message?.type !== 'probe') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message.gc && gc) {
      gc();
      gc();
    }
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
    };
    process.send?.(reply);
  });
}
