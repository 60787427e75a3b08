import superjson from 'superjson';
import type { WebSocket } from 'ws';

/** Close code for a subscriber that fell too far behind; it resumes with `lastEventId`. */
export const CLOSE_TOO_SLOW = 4008;

/** Who an event is for. */
export type Audience =
  | { conversationId: string }
  | { userId: string }
  | { deviceId: string }
  | { userIds: readonly string[] };

/**
 * An event ready to send: the UTF-8 bytes of everything after the subscription id, shared by all
 * its subscribers, and per distinct subscription id the bytes before it (WebSocket frame header
 * and `{"id":<id>`), which are the same for every subscriber with that id.
 */
interface Encoded {
  tail: Buffer;
  heads: Map<string, Buffer>;
}

interface Outbox {
  /** Frames as head, tail, head, tail… (shared buffers: queuing copies nothing). */
  chunks: Buffer[];
  bytes: number;
}

/** The parts of ws's WebSocket the hub writes through (see `writableStream`). */
interface RawStream {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

export interface HubOptions {
  /** Looks up a conversation's member ids (cached here until `invalidateMembers`). */
  membersOf(conversationId: string): string[];
  /** Most bytes a socket may have unsent before it is closed as too slow. */
  maxBufferedBytes?: number;
  onPresence?(userId: string, online: boolean): void;
}

/** The bytes before the payload: an unmasked, final text frame's header (RFC 6455 §5.2). */
function frameHeader(payloadLength: number): Buffer {
  if (payloadLength < 126) return Buffer.from([0x81, payloadLength]);
  if (payloadLength < 65536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(payloadLength, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(payloadLength), 2);
  return header;
}

/**
 * The socket underneath a ws WebSocket when frames may be written to it directly: no extension
 * negotiated (compression would change the framing) and ws's sender idle between whole messages
 * (it always is without compression: ws writes synchronously). Otherwise null, and the hub sends
 * through `WebSocket.send`. ws keeps both as private fields; if they ever change, the check fails
 * and the hub falls back to `send`, which is correct, only slower.
 */
function writableStream(socket: WebSocket): RawStream | null {
  if (socket.extensions !== '') return null;
  const internals = socket as unknown as {
    _socket?: RawStream;
    _sender?: { _state?: number; _firstFragment?: boolean };
  };
  const sender = internals._sender;
  if (sender?._state !== 0 || sender._firstFragment !== true) return null;
  return internals._socket ?? null;
}

/**
 * Real-time fan-out for `events.onEvent`. A published event is serialized once, to bytes; each
 * subscriber's frame is those shared bytes behind its own subscription id (the only part that
 * differs), byte-identical to what tRPC's WebSocket adapter would send, so the stock `wsLink`
 * client reads it as a tracked event. Frames are queued per socket and flushed once per
 * event-loop turn with the socket corked (one write per socket per turn), written as header and
 * shared payload buffers without copying them per subscriber. A socket whose unsent bytes pass
 * the bound is closed with 4008 and resumes later from its `lastEventId`.
 */
export function createHub(options: HubOptions) {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  // A user or device almost always has one live stream, so an entry is that stream itself and
  // becomes a Set only for a second one: an idle connection then costs no Set of its own.
  const byUser = new Map<string, Sink | Set<Sink>>();
  const byDevice = new Map<string, Sink | Set<Sink>>();
  const memberCache = new Map<string, readonly string[]>();
  const outboxes = new Map<WebSocket, Outbox>();
  let flushScheduled = false;

  const members = (conversationId: string) => {
    let cached = memberCache.get(conversationId);
    if (!cached) memberCache.set(conversationId, (cached = options.membersOf(conversationId)));
    return cached;
  };

  function add(map: Map<string, Sink | Set<Sink>>, key: string, sink: Sink): void {
    const entry = map.get(key);
    if (!entry) map.set(key, sink);
    else if (entry instanceof Set) entry.add(sink);
    else map.set(key, new Set([entry, sink]));
  }

  /** Removes `sink`; returns how many remain under `key`. */
  function remove(map: Map<string, Sink | Set<Sink>>, key: string, sink: Sink): number {
    const entry = map.get(key);
    if (entry === sink) {
      map.delete(key);
      return 0;
    }
    if (!(entry instanceof Set)) return entry ? 1 : 0;
    entry.delete(sink);
    if (entry.size === 1) map.set(key, entry.values().next().value!);
    return entry.size;
  }

  function collect(map: Map<string, Sink | Set<Sink>>, key: string, out: Sink[]): void {
    const entry = map.get(key);
    if (!entry) return;
    if (entry instanceof Set) for (const sink of entry) out.push(sink);
    else out.push(entry);
  }

  function flush() {
    flushScheduled = false;
    for (const [socket, outbox] of outboxes) {
      outboxes.delete(socket);
      if (socket.readyState !== 1) continue;
      if (socket.bufferedAmount + outbox.bytes > maxBuffered) {
        socket.close(CLOSE_TOO_SLOW, 'subscriber too slow; resume with lastEventId');
        continue;
      }
      const { chunks } = outbox;
      const stream = writableStream(socket);
      if (stream) {
        // Corked, this turn's frames leave in one writev; the shared payloads are not copied.
        stream.cork();
        for (let i = 0; i < chunks.length; i++) stream.write(chunks[i]!);
        stream.uncork();
      } else {
        for (let i = 0; i < chunks.length; i += 2) {
          const head = chunks[i]!;
          const headerLength = head[1]! === 127 ? 10 : head[1]! === 126 ? 4 : 2;
          socket.send(Buffer.concat([head.subarray(headerLength), chunks[i + 1]!]), {
            binary: false,
          });
        }
      }
    }
  }

  function enqueue(socket: WebSocket, head: Buffer, tail: Buffer) {
    let outbox = outboxes.get(socket);
    if (!outbox) outboxes.set(socket, (outbox = { chunks: [], bytes: 0 }));
    outbox.chunks.push(head, tail);
    outbox.bytes += head.length + tail.length;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  /** Serializes an event once: everything after the subscription id, as UTF-8 bytes. */
  function encode(id: number, payload: unknown): Encoded {
    const key = String(id);
    const data = JSON.stringify(superjson.serialize({ id: key, data: payload }));
    const tail = Buffer.from(
      `,"result":{"type":"data","id":${JSON.stringify(key)},"data":${data}}}`,
    );
    return { tail, heads: new Map() };
  }

  /** Queues `encoded` for one subscriber, behind its subscription id. */
  function send(sink: Sink, encoded: Encoded) {
    let head = encoded.heads.get(sink.subscriptionIdJson);
    if (!head) {
      const prefix = `{"id":${sink.subscriptionIdJson}`;
      const prefixBytes = Buffer.byteLength(prefix);
      head = Buffer.concat([frameHeader(prefixBytes + encoded.tail.length), Buffer.from(prefix)]);
      encoded.heads.set(sink.subscriptionIdJson, head);
    }
    enqueue(sink.socket, head, encoded.tail);
  }

  function deliver(sink: Sink, id: number, encoded: Encoded) {
    if (sink.pending) {
      sink.pending.push({ id, encoded });
      return;
    }
    if (id <= sink.lastEventId) return;
    sink.lastEventId = id;
    send(sink, encoded);
  }

  function sinksFor(audience: Audience): Sink[] {
    const out: Sink[] = [];
    if ('deviceId' in audience) {
      collect(byDevice, audience.deviceId, out);
      return out;
    }
    const userIds =
      'userId' in audience
        ? [audience.userId]
        : 'userIds' in audience
          ? audience.userIds
          : members(audience.conversationId);
    for (const userId of userIds) collect(byUser, userId, out);
    return out;
  }

  /**
   * One `events.onEvent` stream on one socket. Its methods live on the prototype, so an idle
   * stream is this object alone.
   */
  class Sink {
    /** Events published while the backlog was being sent, held until it is done. */
    pending: { id: number; encoded: Encoded }[] | null = [];
    /** The subscription's JSON-RPC id, already JSON-encoded. */
    readonly subscriptionIdJson: string;

    constructor(
      readonly socket: WebSocket,
      subscriptionId: string | number,
      readonly userId: string,
      readonly deviceId: string,
      /** The last durable event sent; ephemeral events carry it so resumption is unaffected. */
      public lastEventId: number,
    ) {
      this.subscriptionIdJson = JSON.stringify(subscriptionId);
    }

    /** Marks the backlog as sent up to `lastEventId`, then releases what was held. */
    goLive(lastEventId: number): void {
      this.lastEventId = Math.max(this.lastEventId, lastEventId);
      const held = this.pending ?? [];
      this.pending = null;
      for (const { id, encoded } of held) deliver(this, id, encoded);
    }

    detach(): void {
      remove(byDevice, this.deviceId, this);
      if (remove(byUser, this.userId, this) === 0) options.onPresence?.(this.userId, false);
    }
  }

  return {
    /** Sends a durable (logged) event to everyone in the audience that is subscribed. */
    publish(id: number, payload: unknown, audience: Audience): void {
      let encoded: Encoded | null = null;
      for (const sink of sinksFor(audience)) deliver(sink, id, (encoded ??= encode(id, payload)));
    },

    /** Sends an event that is not logged (typing, presence); it carries each sink's last id. */
    publishEphemeral(payload: unknown, audience: Audience, exceptUserId?: string): void {
      // Subscribers that have seen the same events share one serialization.
      const byLastId = new Map<number, Encoded>();
      for (const sink of sinksFor(audience)) {
        if (sink.userId === exceptUserId || sink.pending) continue;
        let encoded = byLastId.get(sink.lastEventId);
        if (!encoded) byLastId.set(sink.lastEventId, (encoded = encode(sink.lastEventId, payload)));
        send(sink, encoded);
      }
    },

    /**
     * Registers a subscriber in buffering mode: events are held until `goLive`, so the caller can
     * send the backlog first without missing anything published meanwhile. Returns the stream:
     * `goLive(lastEventId)` once the backlog is sent, `detach()` when it ends.
     */
    attach(sink: {
      socket: WebSocket;
      subscriptionId: string | number;
      userId: string;
      deviceId: string;
      lastEventId: number;
    }): Pick<Sink, 'goLive' | 'detach'> {
      const entry = new Sink(
        sink.socket,
        sink.subscriptionId,
        sink.userId,
        sink.deviceId,
        sink.lastEventId,
      );
      const wasOnline = byUser.has(entry.userId);
      add(byUser, entry.userId, entry);
      add(byDevice, entry.deviceId, entry);
      if (!wasOnline) options.onPresence?.(entry.userId, true);
      return entry;
    },

    /** Forgets cached membership after it changes. */
    invalidateMembers(conversationId: string): void {
      memberCache.delete(conversationId);
    },

    isOnline(userId: string): boolean {
      return byUser.has(userId);
    },

    get subscriberCount(): number {
      let n = 0;
      for (const entry of byUser.values()) n += entry instanceof Set ? entry.size : 1;
      return n;
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
