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

interface Sink {
  socket: WebSocket;
  /** The subscription's JSON-RPC id, already JSON-encoded. */
  subscriptionIdJson: string;
  userId: string;
  deviceId: string;
  /** The id of the last durable event sent; ephemeral events carry it so resumption is unaffected. */
  lastEventId: number;
  /** Events published while the backlog was being sent, held until it is done. */
  pending: { id: number; tail: string }[] | null;
}

interface Outbox {
  frames: string[];
  bytes: number;
}

export interface HubOptions {
  /** Looks up a conversation's member ids (cached here until `invalidateMembers`). */
  membersOf(conversationId: string): string[];
  /** Most bytes a socket may have unsent before it is closed as too slow. */
  maxBufferedBytes?: number;
  onPresence?(userId: string, online: boolean): void;
}

/**
 * Real-time fan-out for `events.onEvent`. A published event is serialized once; each
 * subscriber's frame is that shared string behind its own subscription id (the only part that
 * differs), byte-identical to what tRPC's WebSocket adapter would send, so the stock `wsLink`
 * client reads it as a tracked event. Frames are queued per socket and flushed once per
 * event-loop turn with the socket corked (one write per socket per turn). A socket whose unsent
 * bytes pass the bound is closed with 4008 and resumes later from its `lastEventId`.
 */
export function createHub(options: HubOptions) {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const byUser = new Map<string, Set<Sink>>();
  const byDevice = new Map<string, Set<Sink>>();
  const memberCache = new Map<string, readonly string[]>();
  const outboxes = new Map<WebSocket, Outbox>();
  let flushScheduled = false;

  const members = (conversationId: string) => {
    let cached = memberCache.get(conversationId);
    if (!cached) memberCache.set(conversationId, (cached = options.membersOf(conversationId)));
    return cached;
  };

  function flush() {
    flushScheduled = false;
    for (const [socket, outbox] of outboxes) {
      outboxes.delete(socket);
      if (socket.readyState !== 1) continue;
      if (socket.bufferedAmount + outbox.bytes > maxBuffered) {
        socket.close(CLOSE_TOO_SLOW, 'subscriber too slow; resume with lastEventId');
        continue;
      }
      // ws keeps the net.Socket as `_socket`; corking it turns this turn's frames into one write.
      const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      raw?.cork();
      for (const frame of outbox.frames) socket.send(frame);
      raw?.uncork();
    }
  }

  function enqueue(socket: WebSocket, frame: string) {
    let outbox = outboxes.get(socket);
    if (!outbox) outboxes.set(socket, (outbox = { frames: [], bytes: 0 }));
    outbox.frames.push(frame);
    outbox.bytes += frame.length;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  /** The frame tail shared by every subscriber: everything after the subscription id. */
  function tailFor(id: number, payload: unknown): string {
    const key = String(id);
    const data = JSON.stringify(superjson.serialize({ id: key, data: payload }));
    return `,"result":{"type":"data","id":${JSON.stringify(key)},"data":${data}}}`;
  }

  function deliver(sink: Sink, id: number, tail: string) {
    if (sink.pending) {
      sink.pending.push({ id, tail });
      return;
    }
    if (id <= sink.lastEventId) return;
    sink.lastEventId = id;
    enqueue(sink.socket, `{"id":${sink.subscriptionIdJson}${tail}`);
  }

  function sinksFor(audience: Audience): Iterable<Sink> {
    if ('deviceId' in audience) return byDevice.get(audience.deviceId) ?? [];
    const userIds =
      'userId' in audience
        ? [audience.userId]
        : 'userIds' in audience
          ? audience.userIds
          : members(audience.conversationId);
    const out: Sink[] = [];
    for (const userId of userIds) for (const sink of byUser.get(userId) ?? []) out.push(sink);
    return out;
  }

  return {
    /** Sends a durable (logged) event to everyone in the audience that is subscribed. */
    publish(id: number, payload: unknown, audience: Audience): void {
      let tail: string | null = null;
      for (const sink of sinksFor(audience)) deliver(sink, id, (tail ??= tailFor(id, payload)));
    },

    /** Sends an event that is not logged (typing, presence); it carries each sink's last id. */
    publishEphemeral(payload: unknown, audience: Audience, exceptUserId?: string): void {
      for (const sink of sinksFor(audience)) {
        if (sink.userId === exceptUserId || sink.pending) continue;
        enqueue(
          sink.socket,
          `{"id":${sink.subscriptionIdJson}${tailFor(sink.lastEventId, payload)}`,
        );
      }
    },

    /**
     * Registers a subscriber in buffering mode: events are held until `goLive`, so the caller can
     * send the backlog first without missing anything published meanwhile.
     */
    attach(sink: {
      socket: WebSocket;
      subscriptionId: string | number;
      userId: string;
      deviceId: string;
      lastEventId: number;
    }) {
      const entry: Sink = {
        socket: sink.socket,
        subscriptionIdJson: JSON.stringify(sink.subscriptionId),
        userId: sink.userId,
        deviceId: sink.deviceId,
        lastEventId: sink.lastEventId,
        pending: [],
      };
      let users = byUser.get(entry.userId);
      const wasOnline = users !== undefined && users.size > 0;
      if (!users) byUser.set(entry.userId, (users = new Set()));
      users.add(entry);
      let devices = byDevice.get(entry.deviceId);
      if (!devices) byDevice.set(entry.deviceId, (devices = new Set()));
      devices.add(entry);
      if (!wasOnline) options.onPresence?.(entry.userId, true);

      return {
        /** Marks the backlog as sent up to `lastEventId`, then releases what was held. */
        goLive(lastEventId: number) {
          entry.lastEventId = Math.max(entry.lastEventId, lastEventId);
          const held = entry.pending ?? [];
          entry.pending = null;
          for (const { id, tail } of held) deliver(entry, id, tail);
        },
        detach() {
          users.delete(entry);
          devices.delete(entry);
          if (devices.size === 0) byDevice.delete(entry.deviceId);
          if (users.size === 0) {
            byUser.delete(entry.userId);
            options.onPresence?.(entry.userId, false);
          }
        },
      };
    },

    /** Forgets cached membership after it changes. */
    invalidateMembers(conversationId: string): void {
      memberCache.delete(conversationId);
    },

    isOnline(userId: string): boolean {
      return (byUser.get(userId)?.size ?? 0) > 0;
    },

    get subscriberCount(): number {
      let n = 0;
      for (const set of byUser.values()) n += set.size;
      return n;
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
