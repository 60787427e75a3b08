/**
 * Load-generator child process: holds many cheap receiving sockets (lib/cheap-socket.ts) and
 * reports their counts to the orchestrator over IPC. Run by fanout.bench.ts, never by hand.
 *
 * Modes: `trpc` authenticates each socket with a session token in connectionParams and opens
 * an `events.onEvent` subscription, exactly as the stock wsLink client does on the wire; `raw`
 * connects to the reference broadcast server (raw-server.ts) and only listens.
 */
import { randomBytes } from 'node:crypto';
import { CheapSocket, openMany } from './lib/cheap-socket.ts';

export interface ReceiversConfig {
  mode: 'trpc' | 'raw';
  host: string;
  port: number;
  /** One session token per socket (trpc mode); in raw mode only the count matters. */
  tokens: string[];
  /** Each subscription resumes after this event, as a device that has seen everything. */
  lastEventId: number | null;
  count: number;
  messageMinBytes: number;
  concurrency: number;
}

export type ReceiversCommand =
  | { type: 'start'; config: ReceiversConfig }
  | { type: 'counts' }
  | { type: 'settle' }
  | { type: 'stop' };

export interface ReceiverCounts {
  messages: number;
  messageBytes: number;
  otherFrames: number;
  open: number;
  closed: number;
  closeCodes: Record<string, number>;
}

let sockets: CheapSocket[] = [];

function send(message: unknown): void {
  process.send?.(message);
}

function counts(): ReceiverCounts {
  const result: ReceiverCounts = {
    messages: 0,
    messageBytes: 0,
    otherFrames: 0,
    open: 0,
    closed: 0,
    closeCodes: {},
  };
  for (const s of sockets) {
    result.messages += s.messages;
    result.messageBytes += s.messageBytes;
    result.otherFrames += s.otherFrames;
    if (s.open) result.open += 1;
    if (s.closed) {
      result.closed += 1;
      const code = String(s.closeCode ?? 'none');
      result.closeCodes[code] = (result.closeCodes[code] ?? 0) + 1;
    }
  }
  return result;
}

async function start(config: ReceiversConfig): Promise<void> {
  let subscribed = 0;
  const errors: string[] = [];
  const started = Date.now();
  const { sockets: opened, failures } = await openMany(
    config.count,
    config.concurrency,
    (index, onOpen, onFail) => {
      if (config.mode === 'raw') {
        return new CheapSocket(
          {
            host: config.host,
            port: config.port,
            path: '/sub',
            hello: [],
            messageMinBytes: config.messageMinBytes,
          },
          onOpen,
          onFail,
        );
      }
      const streamId = `bench-${randomBytes(8).toString('hex')}`;
      return new CheapSocket(
        {
          host: config.host,
          port: config.port,
          path: '/trpc?connectionParams=1',
          hello: [
            JSON.stringify({ method: 'connectionParams', data: { token: config.tokens[index] } }),
            JSON.stringify({
              id: 1,
              method: 'subscription',
              params: {
                path: 'events.onEvent',
                input: {
                  json: {
                    streamId,
                    ...(config.lastEventId ? { lastEventId: String(config.lastEventId) } : {}),
                  },
                },
              },
            }),
          ],
          messageMinBytes: config.messageMinBytes,
          onSmallFrame(text, socket) {
            if (text.includes('"type":"started"')) {
              socket.settled = true;
              subscribed += 1;
            } else if (text.includes('"error"')) {
              socket.settled = true;
              if (errors.length < 5) errors.push(text.slice(0, 300));
              else errors.push('');
            }
          },
        },
        onOpen,
        onFail,
      );
    },
  );
  sockets = opened;
  // Every socket either confirms its subscription, answers an error, or failed to connect.
  if (config.mode === 'trpc') {
    const deadline = Date.now() + 120_000;
    while (subscribed + errors.length + failures.length < config.count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  send({
    type: 'started',
    opened: opened.filter((s) => s.open).length,
    subscribed: config.mode === 'raw' ? opened.filter((s) => s.open).length : subscribed,
    failures: failures.slice(0, 5),
    failureCount: failures.length,
    errors: errors.filter(Boolean),
    errorCount: errors.length,
    ms: Date.now() - started,
  });
}

process.on('message', (command: ReceiversCommand) => {
  switch (command.type) {
    case 'start':
      void start(command.config);
      break;
    case 'counts':
      send({ type: 'counts', counts: counts() });
      break;
    case 'settle':
      for (const s of sockets) s.settled = true;
      break;
    case 'stop':
      for (const s of sockets) s.close();
      sockets = [];
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
// The orchestrator going away (crash, Ctrl-C) must not leave this process behind.
process.on('disconnect', () => process.exit(0));
