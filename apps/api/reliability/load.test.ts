import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { probe } from '../bench/lib/processes.ts';
import { seed } from '../bench/lib/seed.ts';
import type { LoadCounts, LoadReceiversConfig } from './lib/load-receivers.ts';
import { createHttpCaller } from './lib/trpc-http.ts';
import { profile } from './profile.ts';
import { recordResult } from './results.ts';
import { createRunDir, startServerProcess, type ServerProcess } from './server.ts';

/**
 * Sustained load: `connections` WebSocket clients, all members of one conversation and each
 * subscribed to its events, while messages are sent into it at a steady rate for `seconds`. Every
 * connection must receive every acknowledged message (0 dropped deliveries). The receivers live in
 * child processes; a few of them decode each message for the send-to-receive latency.
 */
const { connections, seconds, messagesPerSecond, p99TargetMs, maxMemoryGrowth } = profile.load;
const RECEIVER_PROCESSES = connections > 1000 ? 4 : 2;
const SAMPLERS_PER_PROCESS = 10;
const CIPHERTEXT_BYTES = 300;
/**
 * Server memory is sampled this many times, evenly over the sending. Under this load its RSS
 * after a full GC swings by a third from one minute to the next while the heap stays level (the
 * allocator returns pages and takes them again), so growth is judged on what the process retains:
 * the V8 heap plus external memory (Buffers) after a full GC, from the first sample (once warmed
 * up: connection buffers, caches and compiled code are allocated once) to the end. Only that
 * sample forces a GC, which pauses the server for up to a second here; the others read RSS as it
 * is, for the trend.
 */
const MEMORY_SAMPLES = 10;
const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

let server: ServerProcess | null = null;
const receivers: ChildProcess[] = [];
afterAll(async () => {
  for (const child of receivers) if (child.exitCode === null) child.kill('SIGKILL');
  await server?.stop();
});

function request<T>(child: ChildProcess, message: object, type: string, timeoutMs = 120_000) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`receivers did not answer ${type}`)),
      timeoutMs,
    );
    const onMessage = (reply: { type?: string }) => {
      if (reply.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function totals(expected: number) {
  const all = await Promise.all(
    receivers.map((child) => request<LoadCounts>(child, { type: 'counts', expected }, 'counts')),
  );
  return {
    open: all.reduce((n, c) => n + c.open, 0),
    total: all.reduce((n, c) => n + c.total, 0),
    missing: all.reduce((n, c) => n + c.missing, 0),
    extra: all.reduce((n, c) => n + c.extra, 0),
    minPerConnection: Math.min(...all.map((c) => c.minPerConnection)),
    maxPerConnection: Math.max(...all.map((c) => c.maxPerConnection)),
    errors: all.flatMap((c) => c.errors),
    samplerRepeats: all.reduce((n, c) => n + c.samplerRepeats, 0),
    samplerMin: Math.min(...all.map((c) => c.samplerMin)),
    arrivals: all.map((c) => c.arrivals),
  };
}

test(`${connections} WebSocket connections for ${seconds} s at ${messagesPerSecond} messages/s: no dropped delivery`, async () => {
  const dir = createRunDir('load');
  const seeded = seed(dir.dataDir, { groupSize: connections });
  const conversation = seeded.groups[0]!;
  const members = conversation.members;
  server = await startServerProcess('load', {}, dir, {
    nodeArgs: ['--expose-gc', '--import', './bench/server-probe.ts'],
    ipc: true,
  });

  const tokens = members.map((m) => m.token);
  const started = [];
  for (let p = 0; p < RECEIVER_PROCESSES; p++) {
    const child = fork(`${API_DIR}reliability/lib/load-receivers.ts`, [], {
      cwd: API_DIR,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    receivers.push(child);
    const config: LoadReceiversConfig = {
      port: server.port,
      tokens: tokens.filter((_, i) => i % RECEIVER_PROCESSES === p),
      samplers: SAMPLERS_PER_PROCESS,
      lastEventId: seeded.lastEventId,
      messageMinBytes: 600,
    };
    started.push(
      request<{ subscribed: number; errors: string[] }>(
        child,
        { type: 'start', config },
        'started',
      ),
    );
  }
  const subscribed = (await Promise.all(started)).reduce((n, r) => n + r.subscribed, 0);
  expect(subscribed).toBe(connections);
  const memoryBefore = await probe(server.child, true);

  // Open loop: one send every 1000/rate ms whatever the answers, as independent users would.
  const caller = createHttpCaller(server.port, 64);
  const sentAt = new Map<string, number>();
  const sendErrors: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const total = seconds * messagesPerSecond;
  const interval = 1000 / messagesPerSecond;
  const t0 = performance.now();
  const memorySamples: { atSeconds: number; reply: ReturnType<typeof probe> }[] = [];
  const sampler = setInterval(
    () => {
      const reply = probe(server!.child, memorySamples.length === 0);
      // Awaited after the sending; a failure is reported there, not as an unhandled rejection.
      reply.catch(() => {});
      memorySamples.push({ atSeconds: Math.round((performance.now() - t0) / 1000), reply });
    },
    (seconds * 1000) / MEMORY_SAMPLES,
  );
  for (let i = 0; i < total; i++) {
    const wait = t0 + i * interval - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const member = members[Math.floor(Math.random() * members.length)]!;
    const clientMessageId = randomBytes(16).toString('hex');
    const at = now();
    const sending = caller
      .mutate(
        'messages.send',
        {
          conversationId: conversation.id,
          epoch: conversation.epoch,
          clientMessageId,
          sentAt: new Date(),
          ciphertext: randomBytes(CIPHERTEXT_BYTES).toString('base64url'),
        },
        member.token,
      )
      .then((result) => {
        if (result.ok) sentAt.set(clientMessageId, at);
        else if (sendErrors.length < 100) sendErrors.push(`${result.status} ${result.message}`);
      });
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  const sendSeconds = (performance.now() - t0) / 1000;
  caller.close();

  // Drain: every connection should reach every acknowledged message.
  const acked = sentAt.size;
  const expected = acked * connections;
  let counts = await totals(acked);
  const drainStarted = Date.now();
  while (counts.missing > 0 && Date.now() - drainStarted < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    counts = await totals(acked);
  }
  const memoryAfter = await probe(server.child, true);

  const latencies: number[] = [];
  for (const arrivals of counts.arrivals) {
    for (const [id, times] of Object.entries(arrivals)) {
      const sent = sentAt.get(id);
      if (sent !== undefined) for (const at of times) latencies.push(at - sent);
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const p50 = pct(0.5);
  const p99 = pct(0.99);
  const max = latencies.at(-1) ?? NaN;
  const dropped = counts.missing;
  const underLoad = await Promise.all(
    memorySamples.map(async (s) => ({ atSeconds: s.atSeconds, ...(await s.reply) })),
  );
  const baseline = underLoad[0] ?? { atSeconds: 0, ...memoryBefore };
  const retained = (m: typeof memoryAfter) => m.heapUsed + m.external;
  const growth = (retained(memoryAfter) - retained(baseline)) / retained(baseline);
  const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

  recordResult({
    property: `${connections} WebSocket connections for ${seconds} s at ${messagesPerSecond} messages/s: deliveries`,
    target: '0 dropped deliveries',
    measured:
      `${dropped} dropped of ${expected.toLocaleString('en')} (${acked.toLocaleString('en')} messages × ${connections} connections, ` +
      `sent in ${sendSeconds.toFixed(1)} s); ${sendErrors.length} send errors; ${counts.open}/${connections} connections open at the end; ` +
      `each received ${counts.minPerConnection}–${counts.maxPerConnection} message frames (${counts.extra} beyond the messages sent); ` +
      `the ${SAMPLERS_PER_PROCESS * RECEIVER_PROCESSES} decoding clients: ${counts.samplerRepeats} repeated, fewest distinct ${counts.samplerMin}`,
    pass:
      dropped === 0 &&
      sendErrors.length === 0 &&
      acked === total &&
      counts.open === connections &&
      counts.extra === 0 &&
      counts.samplerRepeats === 0 &&
      counts.samplerMin === acked,
  });
  recordResult({
    property: `${connections} connections at ${messagesPerSecond} messages/s: send-to-receive latency`,
    target: p99TargetMs === null ? 'p99 reported' : `p99 < ${p99TargetMs} ms`,
    measured: `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${latencies.length.toLocaleString('en')} deliveries to ${SAMPLERS_PER_PROCESS * RECEIVER_PROCESSES} decoding clients`,
    pass: latencies.length > 0 && (p99TargetMs === null || p99 < p99TargetMs),
  });
  recordResult({
    property: `${connections} connections for ${seconds} s: server memory (heap and external, after GC)`,
    target:
      maxMemoryGrowth === null
        ? 'reported'
        : `growth < ${Math.round(maxMemoryGrowth * 100)}% from ${baseline.atSeconds} s into the load`,
    measured:
      `${mb(retained(baseline))} at ${baseline.atSeconds} s → ${mb(retained(memoryAfter))} at the end ` +
      `(${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%; heap ${mb(baseline.heapUsed)} → ${mb(memoryAfter.heapUsed)}, ` +
      `external ${mb(baseline.external)} → ${mb(memoryAfter.external)}); RSS after GC ${mb(memoryBefore.rss)} before the load, ` +
      `${mb(baseline.rss)} at ${baseline.atSeconds} s, ${mb(memoryAfter.rss)} at the end; RSS along the way ` +
      `${underLoad
        .slice(1)
        .map((s) => (s.rss / 1024 ** 2).toFixed(0))
        .join(', ')} MB`,
    pass: maxMemoryGrowth === null || growth < maxMemoryGrowth,
  });

  for (const child of receivers) child.send({ type: 'stop' });
  expect(sendErrors).toEqual([]);
  expect(counts.errors).toEqual([]);
  expect({
    dropped,
    open: counts.open,
    extra: counts.extra,
    samplerRepeats: counts.samplerRepeats,
    samplerMin: counts.samplerMin,
  }).toEqual({ dropped: 0, open: connections, extra: 0, samplerRepeats: 0, samplerMin: acked });
  expect(acked).toBe(total);
  expect(latencies.length).toBeGreaterThan(0);
  if (p99TargetMs !== null) expect(p99).toBeLessThan(p99TargetMs);
  if (maxMemoryGrowth !== null) expect(growth).toBeLessThan(maxMemoryGrowth);
});
