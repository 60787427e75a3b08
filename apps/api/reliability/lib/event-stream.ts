import { randomBytes } from 'node:crypto';
import superjson from 'superjson';
import WebSocket from 'ws';

export interface StreamedMessage {
  eventId: number;
  conversationId: string;
  seq: number;
  clientMessageId: string;
}

/**
 * One device's `events.onEvent` stream over a raw WebSocket, speaking the wire protocol the
 * stock client speaks, that survives its server: `connect` resumes after the last event id seen,
 * as a client does on reconnect. It keeps every message event it receives, in order.
 */
export class EventStream {
  lastEventId: string | null;
  readonly messages: StreamedMessage[] = [];
  /** Events whose id is not above the last one received: repeats or out of order; must stay 0. */
  replayed = 0;
  /** Of those, how many were never received before (out of order rather than repeated). */
  outOfOrder = 0;
  /** Details of the first few, for the report. */
  readonly anomalies: string[] = [];
  private readonly seenIds = new Set<number>();
  private connections = 0;
  errors: string[] = [];
  private ws: WebSocket | null = null;
  private waiters = new Set<() => void>();

  constructor(
    private readonly token: string,
    lastEventId: number | null = null,
  ) {
    this.lastEventId = lastEventId === null ? null : String(lastEventId);
  }

  /** Opens the socket and subscribes; resolves once the server confirms the subscription. */
  async connect(port: number): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/trpc?connectionParams=1`);
    this.connections += 1;
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('subscription not started in 30 s')), 30_000);
      ws.on('message', (data) => {
        const text = data.toString();
        if (text === 'PING') return ws.send('PONG');
        if (text === 'PONG') return;
        const frame = JSON.parse(text) as {
          id?: number;
          result?: { type?: string; id?: string; data?: unknown };
          error?: { message?: string };
        };
        if (frame.error) {
          this.errors.push(frame.error.message ?? text.slice(0, 200));
          return;
        }
        if (frame.result?.type === 'started') {
          clearTimeout(timer);
          resolve();
          return;
        }
        if (frame.result?.type !== 'data' || !frame.result.id) return;
        const eventId = frame.result.id;
        // A tracked event: { id, data } serialized with superjson.
        const { data: event } = superjson.deserialize(frame.result.data as never) as {
          data: {
            type: string;
            conversationId: string;
            message?: { seq: number; clientMessageId: string };
          };
        };
        // Typing and presence are not stored: they carry the last stored event's id.
        if (event.type === 'typing' || event.type === 'presence') return;
        if (this.lastEventId !== null && Number(eventId) <= Number(this.lastEventId)) {
          this.replayed += 1;
          if (!this.seenIds.has(Number(eventId))) this.outOfOrder += 1;
          if (this.anomalies.length < 5)
            this.anomalies.push(
              `event ${eventId} (${event.type}) after ${this.lastEventId} on connection ${this.connections}` +
                (this.seenIds.has(Number(eventId)) ? ' (repeat)' : ' (out of order)'),
            );
          return;
        }
        this.lastEventId = eventId;
        this.seenIds.add(Number(eventId));
        if (event.type === 'message' && event.message) {
          this.messages.push({
            eventId: Number(eventId),
            conversationId: event.conversationId,
            seq: event.message.seq,
            clientMessageId: event.message.clientMessageId,
          });
          for (const wake of this.waiters) wake();
        }
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error('socket closed before the subscription started'));
      });
    });
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: this.token } }));
    const input: Record<string, string> = { streamId: `s-${randomBytes(8).toString('hex')}` };
    if (this.lastEventId !== null) input.lastEventId = this.lastEventId;
    ws.send(
      JSON.stringify({
        id: 1,
        method: 'subscription',
        params: { path: 'events.onEvent', input: superjson.serialize(input) },
      }),
    );
    await started;
  }

  /** The highest message seq received in `conversationId`. */
  maxSeq(conversationId: string): number {
    let max = 0;
    for (const m of this.messages)
      if (m.conversationId === conversationId && m.seq > max) max = m.seq;
    return max;
  }

  /** Resolves once a message with seq >= `seq` in `conversationId` has arrived. */
  async waitForSeq(conversationId: string, seq: number, timeoutMs = 60_000): Promise<void> {
    if (this.maxSeq(conversationId) >= seq) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.maxSeq(conversationId) < seq) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(`stream stopped at seq ${this.maxSeq(conversationId)}, waited for ${seq}`),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /**
   * Gaps and repeats in the seqs of `conversationId`, which must run 1, 2, 3... without holes:
   * the seqs missing below the highest, and those received more than once.
   */
  audit(conversationId: string): { received: number; missing: number; repeated: number } {
    const seen = new Map<number, number>();
    for (const m of this.messages) {
      if (m.conversationId !== conversationId) continue;
      seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
    }
    let missing = 0;
    let repeated = 0;
    const max = this.maxSeq(conversationId);
    for (let seq = 1; seq <= max; seq++) {
      const n = seen.get(seq) ?? 0;
      if (n === 0) missing += 1;
      else repeated += n - 1;
    }
    return { received: seen.size, missing, repeated };
  }

  close(): void {
    this.ws?.terminate();
    this.ws = null;
  }
}
