/**
 * Receiving side of load.test.ts, in its own process so the test does not measure itself: holds
 * many cheap sockets (bench/lib/cheap-socket.ts) that count every message frame, plus a few real
 * `ws` clients that decode each message and note when it arrived (wall clock, comparable across
 * processes on one machine) for the latency percentiles. Never run by hand.
 */
import { randomBytes } from 'node:crypto';
import superjson from 'superjson';
import WebSocket from 'ws';
import { CheapSocket, openMany } from '../../bench/lib/cheap-socket.ts';

export interface LoadReceiversConfig {
  port: number;
  /** One session token per connection; the first `samplers` are decoding clients. */
  tokens: string[];
  samplers: number;
  /** Every subscription resumes after this event, as a device that has seen everything so far. */
  lastEventId: number;
  /** Frames at least this long are messages (everything else is presence, started, PING...). */
  messageMinBytes: number;
}

export type LoadReceiversCommand =
  | { type: 'start'; config: LoadReceiversConfig }
  | { type: 'counts'; expected: number }
  | { type: 'stop' };

export interface LoadCounts {
  type: 'counts';
  connections: number;
  open: number;
  /** Messages counted on each connection, lowest and highest. */
  minPerConnection: number;
  maxPerConnection: number;
  total: number;
  /** Over all connections: messages short of `expected`, and frames counted beyond it. */
  missing: number;
  extra: number;
  errors: string[];
  /** Messages the decoding clients received twice (by client message id). */
  samplerRepeats: number;
  /** Distinct messages each decoding client received, lowest. */
  samplerMin: number;
  /** clientMessageId -> arrival times (ms since the epoch) on the decoding clients. */
  arrivals: Record<string, number[]>;
}

const now = () => performance.timeOrigin + performance.now();
let cheap: CheapSocket[] = [];
const real: {
  ws: WebSocket;
  messages: number;
  open: boolean;
  ids: Set<string>;
  repeats: number;
}[] = [];
const arrivals: Record<string, number[]> = {};
const errors: string[] = [];
let connections = 0;

let resumeAfter = 0;

function hello(token: string): string[] {
  return [
    JSON.stringify({ method: 'connectionParams', data: { token } }),
    JSON.stringify({
      id: 1,
      method: 'subscription',
      params: {
        path: 'events.onEvent',
        input: superjson.serialize({
          streamId: `load-${randomBytes(8).toString('hex')}`,
          lastEventId: String(resumeAfter),
        }),
      },
    }),
  ];
}

async function openReal(port: number, token: string): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`);
  const entry = { ws, messages: 0, open: false, ids: new Set<string>(), repeats: 0 };
  real.push(entry);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  entry.open = true;
  ws.on('close', () => (entry.open = false));
  const started = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const at = now();
      if (data.length === 4 && data.toString() === 'PING') return ws.send('PONG');
      const text = data.toString();
      if (text.includes('"type":"started"')) return resolve();
      if (!text.includes('"type":"message"')) {
        if (text.includes('"error"') && errors.length < 5) errors.push(text.slice(0, 300));
        return;
      }
      const id = /"clientMessageId":"([0-9a-f]{32})"/.exec(text)?.[1];
      if (!id) return;
      if (entry.ids.has(id)) {
        entry.repeats += 1;
        return;
      }
      entry.ids.add(id);
      entry.messages += 1;
      (arrivals[id] ??= []).push(at);
    });
  });
  for (const frame of hello(token)) ws.send(frame);
  await started;
}

async function start(config: LoadReceiversConfig): Promise<void> {
  connections = config.tokens.length;
  resumeAfter = config.lastEventId;
  const sampled = config.tokens.slice(0, config.samplers);
  const rest = config.tokens.slice(config.samplers);
  await Promise.all(sampled.map((token) => openReal(config.port, token)));
  let subscribed = 0;
  const result = await openMany(rest.length, 50, (index, onOpen, onFail) => {
    return new CheapSocket(
      {
        host: '127.0.0.1',
        port: config.port,
        path: '/trpc?connectionParams=1',
        hello: hello(rest[index]!),
        messageMinBytes: config.messageMinBytes,
        onSmallFrame(text, socket) {
          if (text.includes('"type":"started"')) {
            socket.settled = true;
            subscribed += 1;
          } else if (text.includes('"error"')) {
            socket.settled = true;
            if (errors.length < 5) errors.push(text.slice(0, 300));
          }
        },
      },
      onOpen,
      onFail,
    );
  });
  cheap = result.sockets;
  errors.push(...result.failures.slice(0, 5));
  const deadline = Date.now() + 60_000;
  while (subscribed + result.failures.length < rest.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.send!({ type: 'started', subscribed: subscribed + real.length, errors });
}

function counts(expected: number): LoadCounts {
  const perConnection = [...real.map((r) => r.messages), ...cheap.map((s) => s.messages)];
  let missing = 0;
  let extra = 0;
  for (const n of perConnection) {
    if (n < expected) missing += expected - n;
    else extra += n - expected;
  }
  return {
    type: 'counts',
    connections,
    open: real.filter((r) => r.open).length + cheap.filter((s) => s.open).length,
    minPerConnection: Math.min(...perConnection),
    maxPerConnection: Math.max(...perConnection),
    total: perConnection.reduce((a, b) => a + b, 0),
    missing,
    extra,
    errors,
    samplerRepeats: real.reduce((n, r) => n + r.repeats, 0),
    samplerMin: Math.min(...real.map((r) => r.ids.size)),
    arrivals,
  };
}

process.on('message', (command: LoadReceiversCommand) => {
  if (command.type === 'start') void start(command.config);
  else if (command.type === 'counts') process.send!(counts(command.expected));
  else if (command.type === 'stop') {
    for (const s of cheap) s.close();
    for (const r of real) r.ws.terminate();
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
