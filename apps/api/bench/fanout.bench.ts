/**
 * Real-time fan-out benchmark (`pnpm bench`): what a broadcast costs the server, against a raw
 * `ws` broadcast of the same payloads measured in the same run.
 *
 * Processes, all on this machine's cores, talking over loopback:
 * - the API server: src/main.ts unchanged, on a fresh data dir seeded beforehand (lib/seed.ts),
 *   with an IPC probe preloaded for its CPU time and memory (lib/probe.ts);
 * - the raw reference server (raw-server.ts), plain and corked;
 * - generator processes (receivers.ts) holding the cheap receiving sockets that only count frames;
 * - this orchestrator, which also runs the sender(s) and a few real stock clients
 *   (@securechat/client) that measure send-to-receive latency on its one clock.
 *
 * Scenario A: 1,000 subscribers in one group; a closed-loop sender keeps a window of messages in
 * flight (a message leaves the window once every real receiver has it), so the server runs
 * saturated and the receivers' rate is its delivery rate; then a steady rate below saturation. The
 * same is done against the raw server.
 * Scenario B: 10,000 authenticated connections with an events subscription in 5,000 direct
 * conversations; heap per idle connection after GC; then a steady send rate across the
 * conversations (latency target), then a closed-loop maximum.
 *
 * Results: bench/results/fanout.json and a table on stdout. Every knob can be overridden with a
 * BENCH_* variable (see `params`), e.g. for a quick smoke run.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createHttpSender } from './lib/http-sender.ts';
import {
  LatencyTracker,
  rawReceiver,
  stockClient,
  summarize,
  trpcReceiver,
  type RealClient,
} from './lib/latency.ts';
import {
  API_DIR,
  cleanupAll,
  machineBusyMicros,
  probe,
  processCpuMicros,
  profile,
  removeTempDir,
  startApiServer,
  startRawServer,
  startReceivers,
  trackTempDir,
  type ReceiverGroup,
  type RunningProcess,
} from './lib/processes.ts';
import type { ProbeReply } from './lib/probe.ts';
import { seed, type SeededConversation } from './lib/seed.ts';

const int = (name: string, fallback: number) => {
  const value = process.env[name];
  return value ? Number.parseInt(value, 10) : fallback;
};

/** BENCH_ONLY=a or b runs one scenario (for profiling); the default runs both. */
const only = process.env.BENCH_ONLY ?? '';

const params = {
  ciphertextBytes: int('BENCH_CIPHERTEXT_BYTES', 320),
  generatorProcesses: int('BENCH_GENERATORS', 2),
  connectConcurrency: int('BENCH_CONNECT_CONCURRENCY', 100),
  warmupMs: int('BENCH_WARMUP_MS', 2000),
  measureMs: int('BENCH_MEASURE_MS', 8000),
  a: {
    subscribers: int('BENCH_A_SUBSCRIBERS', 1000),
    realClients: int('BENCH_A_REAL_CLIENTS', 5),
    window: int('BENCH_A_WINDOW', 48),
    /** Then a steady rate well below saturation (messages/s), for latency under normal load. */
    steadyRate: int('BENCH_A_RATE', 100),
  },
  b: {
    pairs: int('BENCH_B_PAIRS', 5000),
    realClients: int('BENCH_B_REAL_CLIENTS', 20),
    /**
     * Steady send rates tried in turn (messages/s, 2 deliveries each). The latency target is
     * judged at `targetRate`: every one of the 10,000 users sending a message every 40 s, far
     * above real chat traffic; the others show where the send path saturates.
     */
    rates: (process.env.BENCH_B_RATES ?? '100,250,500').split(',').map(Number),
    targetRate: int('BENCH_B_TARGET_RATE', 250),
    /** One message in this many goes to a conversation with a real (latency) client. */
    latencyEvery: int('BENCH_B_LATENCY_EVERY', 4),
    window: int('BENCH_B_WINDOW', 64),
  },
  targets: {
    minRatioToRaw: 0.8,
    maxBytesPerIdleConnection: 20 * 1024,
    maxP99MsAt10k: 200,
  },
  cpuProfileDir: process.env.BENCH_CPU_PROF_DIR || undefined,
  /** Writes heap snapshots of the server before and after the idle connections (B). */
  heapSnapshotDir: process.env.BENCH_HEAP_SNAPSHOT_DIR || undefined,
};

const ciphertexts = Array.from({ length: 64 }, () =>
  randomBytes(params.ciphertextBytes).toString('base64url'),
);
// Receivers count frames at least this long as messages: a message frame carries the whole
// ciphertext; presence, `started` and error frames are far shorter.
const messageMinBytes = ciphertexts[0]!.length + 100;
const runPrefix = randomBytes(8).toString('hex');
let messageCounter = 0;
const nextMessageId = () => `${runPrefix}${(messageCounter++).toString(16).padStart(16, '0')}`;
const pickCiphertext = () => ciphertexts[messageCounter % ciphertexts.length]!;

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;

function log(line: string) {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Waits until `read` stops changing for `quietMs` (e.g. the presence storm after connecting). */
async function settle(read: () => Promise<number>, quietMs = 600, maxMs = 30_000) {
  const started = Date.now();
  let last = await read();
  let stableSince = Date.now();
  while (Date.now() - started < maxMs) {
    await sleep(150);
    const now = await read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return;
  }
}

async function waitUntil(check: () => Promise<boolean>, maxMs: number): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

interface Meter {
  /** Deliveries so far: cheap receivers' message frames plus the real clients'. */
  delivered(): Promise<number>;
  /** Server CPU time so far (µs) and its event-loop delay since the previous call. */
  cpu(): Promise<ProbeReply>;
  /** CPU time so far of every process of the run by role, µs: where the cores went. */
  split(): Record<string, number>;
  /** With BENCH_CPU_PROF_DIR: profiles the server over the measured interval. */
  profile(action: 'start' | 'stop', name: string): Promise<void>;
}

interface LoopResult {
  messagesSent: number;
  sendErrors: number;
  firstSendError: string | null;
  measuredSeconds: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  serverCpuCores: number;
  serverCpuMicrosPerDelivery: number | null;
  /** The server's event-loop delay over the measured interval: p99 and max, ms. */
  serverLoopDelayP99Ms: number;
  serverLoopDelayMaxMs: number;
  /** CPU cores used during the measured interval by each process role (2 cores in all). */
  coresByRole: Record<string, number>;
  /** Send to receipt at the real clients. */
  latency: ReturnType<typeof summarize>;
  /** Send to acknowledgement (committed), over every measured send that has one. */
  ackLatency: ReturnType<typeof summarize>;
  /** Deliveries expected (messages x receivers) vs counted after draining: loss check. */
  deliveriesExpected: number;
  deliveriesCounted: number;
}

/**
 * Drives sends and measures. `mode: 'window'` keeps `window` messages in flight, a message
 * leaving when every real receiver has it (or, with no real receiver, when its send resolves);
 * `mode: 'rate'` sends at a fixed rate. Warm-up first, then a measured interval.
 */
async function drive(opts: {
  mode: { kind: 'window'; window: number } | { kind: 'rate'; perSecond: number };
  tracker: LatencyTracker;
  /** Sends one message; returns how many real receivers will get it and the send's promise. */
  send(id: string): { realReceivers: number; done: Promise<unknown> | null };
  deliveriesPerMessage: number;
  meter: Meter;
  warmupMs: number;
  measureMs: number;
  /** Names the CPU profile of the measured interval (BENCH_CPU_PROF_DIR). */
  name: string;
}): Promise<LoopResult> {
  const { tracker, meter } = opts;
  let running = true;
  let inflight = 0;
  let sent = 0;
  let sendErrors = 0;
  let firstSendError: string | null = null;
  const window = opts.mode.kind === 'window' ? opts.mode.window : Infinity;

  // Send-to-acknowledgement times (the send committed), to tell where a slow delivery lost time.
  const ackSamples: number[] = [];
  const sendOne = () => {
    const id = nextMessageId();
    inflight += 1;
    sent += 1;
    const at = performance.now();
    const measured = tracker.measuring;
    const { realReceivers, done } = opts.send(id);
    tracker.expect(id, realReceivers, at);
    done?.then(
      () => {
        if (measured) ackSamples.push(performance.now() - at);
        if (realReceivers === 0) release();
      },
      (error: unknown) => {
        sendErrors += 1;
        firstSendError ??= String(error);
        if (realReceivers === 0) release();
        else tracker.forget(id);
      },
    );
    if (realReceivers === 0 && !done) release();
  };
  const pump = () => {
    while (running && inflight < window) sendOne();
  };
  function release() {
    inflight -= 1;
    if (opts.mode.kind === 'window') queueMicrotask(pump);
  }
  tracker.onComplete = release;

  const deliveredAtStart = await meter.delivered();
  let rateTimer: NodeJS.Timeout | null = null;
  if (opts.mode.kind === 'window') {
    pump();
  } else {
    const perMs = opts.mode.perSecond / 1000;
    const t0 = performance.now();
    rateTimer = setInterval(() => {
      const due = Math.floor((performance.now() - t0) * perMs);
      while (running && sent < due) sendOne();
    }, 2);
  }

  await sleep(opts.warmupMs);
  tracker.reset();
  tracker.measuring = true;
  await meter.profile('start', opts.name);
  const [d0, c0] = await Promise.all([meter.delivered(), meter.cpu()]);
  const s0 = meter.split();
  const t0 = performance.now();
  await sleep(opts.measureMs);
  const [d1, c1] = await Promise.all([meter.delivered(), meter.cpu()]);
  const s1 = meter.split();
  const t1 = performance.now();
  await meter.profile('stop', opts.name);
  tracker.measuring = false;
  running = false;
  if (rateTimer) clearInterval(rateTimer);

  // Drain: every message sent must reach every receiver (loss or a dropped socket shows here).
  const expected = (sent - sendErrors) * opts.deliveriesPerMessage;
  let counted = 0;
  await waitUntil(
    async () => (counted = (await meter.delivered()) - deliveredAtStart) >= expected,
    15_000,
  );
  tracker.onComplete = null;

  const seconds = (t1 - t0) / 1000;
  const deliveries = d1 - d0;
  return {
    messagesSent: sent,
    sendErrors,
    firstSendError,
    measuredSeconds: round(seconds, 2),
    messagesPerSecond: round(deliveries / opts.deliveriesPerMessage / seconds),
    deliveriesPerSecond: round(deliveries / seconds),
    serverCpuCores: round((c1.cpuMicros - c0.cpuMicros) / 1e6 / seconds, 2),
    serverCpuMicrosPerDelivery:
      deliveries > 0 ? round((c1.cpuMicros - c0.cpuMicros) / deliveries, 2) : null,
    serverLoopDelayP99Ms: c1.loopDelayP99Ms,
    serverLoopDelayMaxMs: c1.loopDelayMaxMs,
    coresByRole: Object.fromEntries(
      // Tick granularity can make a near-zero difference slightly negative.
      Object.keys(s1).map((role) => [
        role,
        Math.max(0, round((s1[role]! - s0[role]!) / 1e6 / seconds, 2)),
      ]),
    ),
    latency: summarize(tracker.samples),
    ackLatency: summarize(ackSamples),
    deliveriesExpected: expected,
    deliveriesCounted: counted,
  };
}

function meterFor(
  server: RunningProcess,
  receivers: ReceiverGroup,
  tracker: LatencyTracker,
): Meter {
  return {
    delivered: async () => (await receivers.counts()).messages + tracker.delivered,
    cpu: () => probe(server.child),
    profile: async (action, name) => {
      if (!params.cpuProfileDir) return;
      mkdirSync(params.cpuProfileDir, { recursive: true });
      await profile(server.child, action, join(params.cpuProfileDir, `${name}.cpuprofile`));
    },
    split: () => {
      const self = process.cpuUsage();
      let generators = 0;
      for (const pid of receivers.pids) generators += processCpuMicros(pid) ?? 0;
      const ours = {
        server: processCpuMicros(server.child.pid) ?? 0,
        generators,
        orchestrator: self.user + self.system,
      };
      const machine = machineBusyMicros() ?? 0;
      return { ...ours, others: machine - ours.server - ours.generators - ours.orchestrator };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario A: 1,000 subscribers in one group conversation.

/** Starts the cheap counting receivers in their generator processes (tRPC streams or raw sockets). */
function startCheapReceivers(
  port: number,
  tokens: string[] | null,
  count: number,
  lastEventId: number | null,
) {
  return startReceivers(
    {
      mode: tokens ? 'trpc' : 'raw',
      host: '127.0.0.1',
      port,
      lastEventId,
      messageMinBytes,
      concurrency: params.connectConcurrency,
    },
    tokens,
    count,
    params.generatorProcesses,
  );
}

async function scenarioATrpc() {
  const dataDir = trackTempDir(mkdtempSync(join(os.tmpdir(), 'securechat-bench-a-')));
  const { groups, lastEventId, ms: seedMs } = seed(dataDir, { groupSize: params.a.subscribers });
  const group = groups[0]!;
  log(`A/tRPC: seeded ${group.members.length} users and the group in ${seedMs} ms`);
  const server = await startApiServer(dataDir);
  const url = `http://127.0.0.1:${server.port}`;
  const tracker = new LatencyTracker();
  const real: RealClient[] = [];
  const realUsers = group.members.slice(0, params.a.realClients);
  for (const user of realUsers) real.push(await trpcReceiver(url, user, lastEventId, tracker));
  const cheapUsers = group.members.slice(params.a.realClients);
  const receivers = await startCheapReceivers(
    server.port,
    cheapUsers.map((u) => u.token),
    cheapUsers.length,
    lastEventId,
  );
  log(
    `A/tRPC: ${receivers.started.subscribed}/${cheapUsers.length} cheap subscribers in ${receivers.started.ms} ms` +
      (receivers.started.errorCount ? `; errors: ${receivers.started.errors.join(' | ')}` : ''),
  );
  await settle(async () => (await receivers.counts()).otherFrames);
  receivers.settle();
  const idle = await probe(server.child, true);

  const sender = stockClient(url, group.members[0]!.token);
  const send = (id: string) => ({
    realReceivers: realUsers.length,
    done: sender.api.messages.send.mutate({
      conversationId: group.id,
      epoch: group.epoch,
      clientMessageId: id,
      sentAt: new Date(),
      ciphertext: pickCiphertext(),
    }),
  });
  // One message first: every subscriber must receive it before anything is measured.
  const before = await receivers.counts();
  await send(nextMessageId()).done;
  const allLive = await waitUntil(
    async () => (await receivers.counts()).messages - before.messages >= cheapUsers.length,
    10_000,
  );
  if (!allLive) log('A/tRPC: WARNING not every subscriber received the first message');

  const result = await drive({
    mode: { kind: 'window', window: params.a.window },
    tracker,
    send,
    deliveriesPerMessage: group.members.length,
    meter: meterFor(server, receivers, tracker),
    warmupMs: params.warmupMs,
    measureMs: params.measureMs,
    name: 'a-trpc',
  });
  const steady = await drive({
    mode: { kind: 'rate', perSecond: params.a.steadyRate },
    tracker,
    send,
    deliveriesPerMessage: group.members.length,
    meter: meterFor(server, receivers, tracker),
    warmupMs: params.warmupMs,
    measureMs: params.measureMs,
    name: 'a-trpc-steady',
  });
  const counts = await receivers.counts();
  const after = await probe(server.child, true);
  for (const client of real) client.close();
  await receivers.stop();
  await server.stop();
  removeTempDir(dataDir);
  return {
    subscribers: group.members.length,
    realClients: realUsers.length,
    allSubscribersLive: allLive,
    subscribeErrors: receivers.started.errorCount + receivers.started.failureCount,
    ...result,
    steady,
    bytesPerDeliveredFrame: counts.messages ? round(counts.messageBytes / counts.messages) : null,
    socketsClosed: counts.closed,
    closeCodes: counts.closeCodes,
    serverMemory: {
      idleRssMiB: round(idle.rss / 2 ** 20, 1),
      idleHeapUsedMiB: round(idle.heapUsed / 2 ** 20, 1),
      afterRunRssMiB: round(after.rss / 2 ** 20, 1),
      afterRunHeapUsedMiB: round(after.heapUsed / 2 ** 20, 1),
    },
    serverProblems: server.problems,
  };
}

async function scenarioARaw(mode: 'plain' | 'corked') {
  const server = await startRawServer(mode);
  const tracker = new LatencyTracker();
  const real: RealClient[] = [];
  for (let i = 0; i < params.a.realClients; i++) real.push(await rawReceiver(server.port, tracker));
  const cheapCount = params.a.subscribers - params.a.realClients;
  const receivers = await startCheapReceivers(server.port, null, cheapCount, null);
  receivers.settle();
  await sleep(300);
  const senderSocket = new WebSocket(`ws://127.0.0.1:${server.port}/send`);
  await new Promise((resolve, reject) => {
    senderSocket.once('open', resolve);
    senderSocket.once('error', reject);
  });
  const ids = { user: randomBytes(16).toString('hex'), device: randomBytes(16).toString('hex') };
  const conversationId = randomBytes(16).toString('hex');
  const send = (id: string) => {
    senderSocket.send(
      JSON.stringify({
        conversationId,
        epoch: 0,
        senderUserId: ids.user,
        senderDeviceId: ids.device,
        clientMessageId: id,
        sentAt: new Date().toISOString(),
        ciphertext: pickCiphertext(),
      }),
    );
    return { realReceivers: real.length, done: null };
  };
  const before = await receivers.counts();
  send(nextMessageId());
  const allLive = await waitUntil(
    async () => (await receivers.counts()).messages - before.messages >= cheapCount,
    10_000,
  );
  const result = await drive({
    mode: { kind: 'window', window: params.a.window },
    tracker,
    send,
    deliveriesPerMessage: params.a.subscribers,
    meter: meterFor(server, receivers, tracker),
    warmupMs: params.warmupMs,
    measureMs: params.measureMs,
    name: `a-raw-${mode}`,
  });
  const steady = await drive({
    mode: { kind: 'rate', perSecond: params.a.steadyRate },
    tracker,
    send,
    deliveriesPerMessage: params.a.subscribers,
    meter: meterFor(server, receivers, tracker),
    warmupMs: params.warmupMs,
    measureMs: params.measureMs,
    name: `a-raw-${mode}-steady`,
  });
  const counts = await receivers.counts();
  senderSocket.close();
  for (const client of real) client.close();
  await receivers.stop();
  await server.stop();
  return {
    mode,
    subscribers: params.a.subscribers,
    allSubscribersLive: allLive,
    ...result,
    steady,
    bytesPerDeliveredFrame: counts.messages ? round(counts.messageBytes / counts.messages) : null,
    socketsClosed: counts.closed,
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario B: 10,000 connections in 5,000 direct conversations.

async function scenarioB() {
  const dataDir = trackTempDir(mkdtempSync(join(os.tmpdir(), 'securechat-bench-b-')));
  const { directs, lastEventId, ms: seedMs } = seed(dataDir, { directPairs: params.b.pairs });
  log(
    `B: seeded ${directs.length * 2} users in ${directs.length} direct conversations in ${seedMs} ms`,
  );
  const server = await startApiServer(dataDir);
  const url = `http://127.0.0.1:${server.port}`;
  const tracker = new LatencyTracker();

  // Real clients: the first member of the first `realClients` conversations. Everyone else is a
  // cheap socket, including those conversations' other members.
  const latencyConversations = directs.slice(0, params.b.realClients);
  const real: RealClient[] = [];
  for (const c of latencyConversations) {
    real.push(await trpcReceiver(url, c.members[0]!, lastEventId, tracker));
  }
  const cheapUsers = [
    ...latencyConversations.map((c) => c.members[1]!),
    ...directs.slice(params.b.realClients).flatMap((c) => c.members),
  ];
  // Baseline after the real clients are in: every code path is warm, so the difference below is
  // what the additional idle connections cost.
  await sleep(500);
  const snapshot = (name: string) => {
    if (!params.heapSnapshotDir) return undefined;
    mkdirSync(params.heapSnapshotDir, { recursive: true });
    return join(params.heapSnapshotDir, `${name}.heapsnapshot`);
  };
  const baseline = await probe(server.child, true, snapshot('b-baseline'));
  const connectStarted = performance.now();
  const receivers = await startCheapReceivers(
    server.port,
    cheapUsers.map((u) => u.token),
    cheapUsers.length,
    lastEventId,
  );
  const connectMs = performance.now() - connectStarted;
  log(
    `B: ${receivers.started.subscribed}/${cheapUsers.length} cheap subscribers (+${real.length} real) in ${round(connectMs)} ms` +
      (receivers.started.errorCount ? `; errors: ${receivers.started.errors.join(' | ')}` : ''),
  );
  await settle(async () => (await receivers.counts()).otherFrames);
  receivers.settle();
  await sleep(1000);
  const loaded = await probe(server.child, true, snapshot('b-idle-connections'));
  const n = receivers.started.subscribed;
  const perConnection = (a: number, b: number) => (n > 0 ? round((b - a) / n) : null);
  const memory = {
    connectionsMeasured: n,
    baseline: {
      rss: baseline.rss,
      heapUsed: baseline.heapUsed,
      external: baseline.external,
      arrayBuffers: baseline.arrayBuffers,
    },
    loaded: {
      rss: loaded.rss,
      heapUsed: loaded.heapUsed,
      external: loaded.external,
      arrayBuffers: loaded.arrayBuffers,
    },
    heapBytesPerConnection: perConnection(baseline.heapUsed, loaded.heapUsed),
    externalBytesPerConnection: perConnection(baseline.external, loaded.external),
    heapPlusExternalBytesPerConnection: perConnection(
      baseline.heapUsed + baseline.external,
      loaded.heapUsed + loaded.external,
    ),
    rssBytesPerConnection: perConnection(baseline.rss, loaded.rss),
  };
  log(
    `B: per idle connection after GC: heap ${memory.heapBytesPerConnection} B, ` +
      `heap+external ${memory.heapPlusExternalBytesPerConnection} B, RSS ${memory.rssBytesPerConnection} B`,
  );

  // Senders: whichever member sends, over HTTP as the stock client does (lib/http-sender.ts).
  const http = createHttpSender(server.port, params.b.window);
  let turn = 0;
  const others = directs.slice(params.b.realClients);
  const send = (id: string) => {
    turn += 1;
    let conversation: SeededConversation;
    let from;
    let realReceivers = 0;
    if (turn % params.b.latencyEvery === 0) {
      // To a real client, from the other member (a cheap socket that also gets its own copy).
      conversation =
        latencyConversations[(turn / params.b.latencyEvery) % latencyConversations.length]!;
      from = conversation.members[1]!;
      realReceivers = 1;
    } else {
      conversation = others[Math.floor(Math.random() * others.length)]!;
      from = conversation.members[Math.random() < 0.5 ? 0 : 1]!;
    }
    return {
      realReceivers,
      done: http.send(from.token, {
        conversationId: conversation.id,
        epoch: conversation.epoch,
        clientMessageId: id,
        sentAt: new Date(),
        ciphertext: pickCiphertext(),
      }),
    };
  };
  const meter = meterFor(server, receivers, tracker);
  const steady: (LoopResult & { ratePerSecond: number })[] = [];
  for (const rate of params.b.rates) {
    log(`B: steady ${rate} messages/s across ${directs.length} conversations`);
    const result = await drive({
      mode: { kind: 'rate', perSecond: rate },
      tracker,
      send,
      deliveriesPerMessage: 2,
      meter,
      warmupMs: params.warmupMs,
      measureMs: params.measureMs,
      name: `b-steady-${rate}`,
    });
    steady.push({ ratePerSecond: rate, ...result });
    log(`B: ${rate}/s: p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms`);
  }
  log(`B: closed loop, ${params.b.window} sends in flight`);
  const saturated = await drive({
    mode: { kind: 'window', window: params.b.window },
    tracker,
    send,
    deliveriesPerMessage: 2,
    meter,
    warmupMs: params.warmupMs,
    measureMs: Math.round(params.measureMs / 2),
    name: 'b-closed-loop',
  });
  const counts = await receivers.counts();
  for (const client of real) client.close();
  http.close();
  await receivers.stop();
  await server.stop();
  removeTempDir(dataDir);
  return {
    connections: n + real.length,
    conversations: directs.length,
    subscribeErrors: receivers.started.errorCount + receivers.started.failureCount,
    subscribeErrorSamples: receivers.started.errors,
    connectSeconds: round(connectMs / 1000, 1),
    memory,
    steady,
    saturated,
    socketsClosed: counts.closed,
    closeCodes: counts.closeCodes,
    serverProblems: server.problems,
  };
}

// ---------------------------------------------------------------------------------------------

async function writeResults(results: object): Promise<string> {
  const dir = join(API_DIR, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'fanout.json');
  let text = `${JSON.stringify(results, null, 2)}\n`;
  // Format as the repo's prettier does (a root dev dependency), so the file passes its check.
  try {
    const require = createRequire(join(API_DIR, '..', '..', 'package.json'));
    type Prettier = {
      format(source: string, options: object): Promise<string>;
      resolveConfig(file: string): Promise<object | null>;
    };
    const loaded = (await import(require.resolve('prettier'))) as Prettier & { default?: Prettier };
    const prettier = loaded.default ?? loaded;
    const config = (await prettier.resolveConfig(file)) ?? {};
    text = await prettier.format(text, { ...config, parser: 'json' });
  } catch {
    // Plain JSON is fine too.
  }
  writeFileSync(file, text);
  return file;
}

function table(rows: (string | number | null)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '-').length)));
  return rows
    .map((r) => r.map((cell, i) => String(cell ?? '-').padEnd(widths[i]!)).join('  '))
    .join('\n');
}

async function main() {
  const started = Date.now();
  log(
    `machine: ${os.cpus().length} cpus (${os.cpus()[0]?.model}), node ${process.version}; ` +
      `${params.a.subscribers} subscribers, ${params.b.pairs * 2} connections`,
  );
  let a = null;
  if (only !== 'b') {
    const trpc = await scenarioATrpc();
    log(`A/tRPC: ${trpc.deliveriesPerSecond} deliveries/s, p99 ${trpc.latency.p99Ms} ms`);
    const rawPlain = await scenarioARaw('plain');
    log(`A/raw plain: ${rawPlain.deliveriesPerSecond} deliveries/s`);
    const rawCorked = await scenarioARaw('corked');
    log(`A/raw corked: ${rawCorked.deliveriesPerSecond} deliveries/s`);
    a = {
      trpc,
      rawPlain,
      rawCorked,
      ratioToRawPlain: round(trpc.deliveriesPerSecond / rawPlain.deliveriesPerSecond, 2),
      ratioToRawCorked: round(trpc.deliveriesPerSecond / rawCorked.deliveriesPerSecond, 2),
      cpuPerDeliveryToRawPlain:
        trpc.serverCpuMicrosPerDelivery && rawPlain.serverCpuMicrosPerDelivery
          ? round(trpc.serverCpuMicrosPerDelivery / rawPlain.serverCpuMicrosPerDelivery, 2)
          : null,
    };
  }
  let b = null;
  if (only !== 'a') {
    b = await scenarioB();
    log(`B: closed loop ${b.saturated.deliveriesPerSecond} deliveries/s`);
  }

  const targets = [];
  if (a) {
    targets.push({
      name: `delivery rate at ${a.trpc.subscribers} subscribers vs raw ws broadcast (one send per subscriber)`,
      target: `>= ${params.targets.minRatioToRaw}`,
      measured: a.ratioToRawPlain,
      pass: a.ratioToRawPlain >= params.targets.minRatioToRaw && a.trpc.sendErrors === 0,
    });
  }
  if (b) {
    const bytes = b.memory.heapPlusExternalBytesPerConnection;
    const atTarget = b.steady.find((r) => r.ratePerSecond === params.b.targetRate) ?? null;
    const p99 = atTarget?.latency.p99Ms ?? null;
    targets.push(
      {
        name: 'server memory per idle authenticated connection (heap + external, after GC)',
        target: `<= ${params.targets.maxBytesPerIdleConnection} bytes`,
        measured: bytes,
        pass: bytes !== null && bytes <= params.targets.maxBytesPerIdleConnection,
      },
      {
        name: `send-to-receive p99 at ${b.connections} connections, ${params.b.targetRate} messages/s`,
        target: `< ${params.targets.maxP99MsAt10k} ms`,
        measured: p99,
        pass:
          p99 !== null &&
          p99 < params.targets.maxP99MsAt10k &&
          atTarget?.sendErrors === 0 &&
          atTarget.deliveriesCounted >= atTarget.deliveriesExpected,
      },
    );
  }
  // CPU that processes outside the benchmark used during the measured intervals: a shared
  // machine makes rates and tail latencies worse, and the reader must know.
  const measured: LoopResult[] = [
    ...(a
      ? [a.trpc, a.trpc.steady, a.rawPlain, a.rawPlain.steady, a.rawCorked, a.rawCorked.steady]
      : []),
    ...(b ? [...b.steady, b.saturated] : []),
  ];
  const maxOthers = Math.max(0, ...measured.map((r) => r.coresByRole.others ?? 0));
  const outsideLoad = {
    maxCores: maxOthers,
    contended: maxOthers > 0.25,
    note: 'cores used by processes outside the benchmark in its busiest measured interval',
  };
  const results = {
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      totalMemoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      note:
        'server, raw reference, generators and orchestrator share these cores over loopback; ' +
        'coresByRole.others is CPU used by processes outside the benchmark meanwhile',
    },
    parameters: { ...params, messageMinBytes, ciphertextBase64Chars: ciphertexts[0]!.length },
    scenarioA: a,
    scenarioB: b,
    targets,
    allTargetsMet: targets.every((t) => t.pass),
    outsideLoad,
  };
  const file = await writeResults(results);

  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v);
  const runs: [string, LoopResult][] = [];
  if (a) {
    const steady = `${params.a.steadyRate} msgs/s`;
    runs.push(
      [`A tRPC, ${a.trpc.subscribers} subscribers, closed loop`, a.trpc],
      ['A raw ws send per subscriber, closed loop', a.rawPlain],
      ['A raw ws corked per turn, closed loop', a.rawCorked],
      [`A tRPC, ${steady}`, a.trpc.steady],
      [`A raw ws send per subscriber, ${steady}`, a.rawPlain.steady],
      [`A raw ws corked per turn, ${steady}`, a.rawCorked.steady],
    );
  }
  if (b) {
    for (const r of b.steady) runs.push([`B ${b.connections} conns, ${r.ratePerSecond} msgs/s`, r]);
    runs.push([`B ${b.connections} conns, closed loop`, b.saturated]);
  }
  console.log(
    `\n${table([
      [
        'run',
        'deliveries/s',
        'p50 ms',
        'p99 ms',
        'server µs/delivery',
        'server loop delay p99/max ms',
        'CPU cores by process',
      ],
      ...runs.map(([name, r]) => [
        name,
        fmt(r.deliveriesPerSecond),
        fmt(r.latency.p50Ms),
        fmt(r.latency.p99Ms),
        fmt(r.serverCpuMicrosPerDelivery),
        `${r.serverLoopDelayP99Ms} / ${r.serverLoopDelayMaxMs}`,
        Object.entries(r.coresByRole)
          .map(([role, cores]) => `${role} ${cores}`)
          .join(', '),
      ]),
    ])}\n`,
  );
  if (b) {
    console.log(
      `B memory per idle connection (after GC): heap ${fmt(b.memory.heapBytesPerConnection)} B, ` +
        `external ${fmt(b.memory.externalBytesPerConnection)} B, RSS ${fmt(b.memory.rssBytesPerConnection)} B\n`,
    );
  }
  console.log(
    table([
      ['target', 'wanted', 'measured', 'result'],
      ...targets.map((t) => [t.name, t.target, fmt(t.measured), t.pass ? 'PASS' : 'FAIL']),
    ]),
  );
  if (outsideLoad.contended) {
    console.log(
      `\nWARNING: other processes used up to ${maxOthers} of this machine's cores during the ` +
        'measurements (coresByRole.others); rates and tail latencies are lower than on an idle ' +
        'machine. Rerun when it is idle.',
    );
  }
  console.log(`\nresults: ${file}`);
}

// Whatever ends this process (error, signal, a closed stdout pipe), its children go with it.
process.on('exit', cleanupAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => process.exit(130));
}
process.stdout.on('error', () => process.exit(1));
try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  cleanupAll();
}
// Lingering client sockets or timers must not keep the benchmark alive.
process.exit(process.exitCode ?? 0);
