/**
 * The reference the issue measures against: a raw `ws` broadcast of the same encrypted
 * payloads, no tRPC, no database. Subscribers connect to `/sub`; the sender posts messages as
 * JSON text frames on `/send`; each message is serialized once into the same event shape the API
 * delivers and sent to every subscriber.
 *
 * RAW_MODE=plain: one `ws.send` per subscriber (the textbook broadcast; realtime.md's first row).
 * RAW_MODE=corked: frames queued per socket and written once per event-loop turn with the socket
 * corked (realtime.md's second row, what events/hub.ts does).
 *
 * Prints `{"event":"listening","port":N}` on stdout. Run by fanout.bench.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { installProbe } from './lib/probe.ts';

installProbe();

const mode = process.env.RAW_MODE === 'corked' ? 'corked' : 'plain';
const subscribers = new Set<WebSocket>();
const outboxes = new Map<WebSocket, string[]>();
let flushScheduled = false;
let seq = 0;

function flush() {
  flushScheduled = false;
  for (const [socket, frames] of outboxes) {
    outboxes.delete(socket);
    if (socket.readyState !== 1) continue;
    const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    raw?.cork();
    for (const frame of frames) socket.send(frame);
    raw?.uncork();
  }
}

function broadcast(frame: string) {
  if (mode === 'plain') {
    for (const socket of subscribers) if (socket.readyState === 1) socket.send(frame);
    return;
  }
  for (const socket of subscribers) {
    let frames = outboxes.get(socket);
    if (!frames) outboxes.set(socket, (frames = []));
    frames.push(frame);
  }
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

interface Sent {
  conversationId: string;
  epoch: number;
  senderUserId: string;
  senderDeviceId: string;
  clientMessageId: string;
  sentAt: string;
  ciphertext: string;
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
const http = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
http.on('upgrade', (req, socket, head) => {
  const path = req.url ?? '';
  if (path !== '/sub' && path !== '/send') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (path === '/sub') {
      subscribers.add(ws);
      ws.on('close', () => subscribers.delete(ws));
      return;
    }
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Sent;
      seq += 1;
      // Same payload and event shape the API delivers (minus tRPC's envelope and superjson meta).
      const frame = JSON.stringify({
        type: 'message',
        conversationId: m.conversationId,
        message: {
          seq,
          conversationId: m.conversationId,
          epoch: m.epoch,
          senderUserId: m.senderUserId,
          senderDeviceId: m.senderDeviceId,
          clientMessageId: m.clientMessageId,
          sentAt: m.sentAt,
          receivedAt: new Date().toISOString(),
          size: Math.floor((m.ciphertext.length * 3) / 4),
          ciphertext: m.ciphertext,
          deleted: false,
        },
      });
      broadcast(frame);
    });
  });
});
http.listen(0, '127.0.0.1', () => {
  const port = (http.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port, mode })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
