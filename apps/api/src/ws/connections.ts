import type { WebSocket } from 'ws';

/** Close code sent when the session behind a socket ends (logout, revoke, expiry). */
export const CLOSE_SESSION_ENDED = 4401;

/** The procedure whose live events the hub writes directly (see events/hub.ts). */
export const EVENTS_PATH = 'events.onEvent';

/** Per-connection state kept for the socket's life. */
export interface Connection {
  socket: WebSocket;
  sessionId: string | null;
  subscriptions: number;
  /**
   * JSON-RPC ids of `events.onEvent` subscriptions received and not yet started, by the
   * `streamId` in their input: how the procedure learns which frames are its own.
   */
  eventSubscriptionIds: Map<string, string | number>;
  /** Whether this connection's one events stream is open. */
  eventStreamOpen: boolean;
}

function noteEventSubscriptions(connection: Connection, text: string): void {
  // Cheap test first: only frames naming the events procedure are parsed here.
  if (!text.includes(EVENTS_PATH)) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return; // tRPC's own handler answers malformed frames
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    const m = message as {
      id?: unknown;
      method?: unknown;
      params?: { path?: unknown; input?: { json?: { streamId?: unknown } } };
    } | null;
    const streamId = m?.params?.input?.json?.streamId;
    if (
      m?.method === 'subscription' &&
      m.params?.path === EVENTS_PATH &&
      typeof streamId === 'string' &&
      (typeof m.id === 'string' || typeof m.id === 'number')
    ) {
      const ids = connection.eventSubscriptionIds;
      // Bounded: a client cannot grow this by sending requests that never start.
      if (ids.size >= 8) ids.delete(ids.keys().next().value!);
      ids.set(streamId, m.id);
    }
  }
}

/**
 * Tracks open WebSockets: by socket, for per-connection state, and by session, so that ending a
 * session closes its sockets at once (a socket authenticated at connect time must not outlive
 * its session).
 */
export function createConnectionRegistry() {
  const bySocket = new WeakMap<WebSocket, Connection>();
  const bySession = new Map<string, Set<Connection>>();

  return {
    /** Called on every new socket, before tRPC's handler sees its first message. */
    accept(socket: WebSocket): Connection {
      const connection: Connection = {
        socket,
        sessionId: null,
        subscriptions: 0,
        eventSubscriptionIds: new Map(),
        eventStreamOpen: false,
      };
      bySocket.set(socket, connection);
      socket.on('message', (data, isBinary) => {
        if (!isBinary) noteEventSubscriptions(connection, data.toString());
      });
      return connection;
    },

    /** Binds the connection to the session its context was created with. */
    bind(socket: WebSocket, sessionId: string | null): Connection {
      const connection = bySocket.get(socket) ?? this.accept(socket);
      connection.sessionId = sessionId;
      if (sessionId) {
        let set = bySession.get(sessionId);
        if (!set) bySession.set(sessionId, (set = new Set()));
        set.add(connection);
        socket.once('close', () => {
          set.delete(connection);
          if (set.size === 0 && bySession.get(sessionId) === set) bySession.delete(sessionId);
        });
      }
      return connection;
    },

    /** Closes every socket of these sessions. */
    closeSessions(sessionIds: Iterable<string>): void {
      for (const id of sessionIds) {
        for (const connection of bySession.get(id) ?? []) {
          connection.socket.close(CLOSE_SESSION_ENDED, 'session ended');
        }
        bySession.delete(id);
      }
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
