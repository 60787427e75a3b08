import type { RawData, WebSocket } from 'ws';

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
   * `streamId` in their input: how the procedure learns which frames are its own. Null while
   * there are none, which is nearly always (see `takeEventSubscriptionId`).
   */
  eventSubscriptionIds: Map<string, string | number> | null;
  /** Whether this connection's one events stream is open. */
  eventStreamOpen: boolean;
}

/** The JSON-RPC id recorded for `streamId`, forgotten as it is taken. */
export function takeEventSubscriptionId(
  connection: Connection,
  streamId: string,
): string | number | undefined {
  const ids = connection.eventSubscriptionIds;
  const id = ids?.get(streamId);
  if (ids && id !== undefined) {
    ids.delete(streamId);
    // An idle connection keeps no map: thousands of them would each hold an empty one.
    if (ids.size === 0) connection.eventSubscriptionIds = null;
  }
  return id;
}

function noteEventSubscriptions(connection: Connection, text: string): void {
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
      const ids = (connection.eventSubscriptionIds ??= new Map());
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
  // A session almost always has one socket: the entry is that connection until a second opens.
  const bySession = new Map<string, Connection | Set<Connection>>();

  // Listeners shared by every socket (ws calls them with the socket as `this`), so a connection
  // costs no closures of its own.
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean) {
    if (isBinary) return;
    const connection = bySocket.get(this);
    if (!connection) return;
    // Cheap test first: only frames naming the events procedure are decoded and parsed here.
    if (Buffer.isBuffer(data)) {
      if (data.includes(EVENTS_PATH)) noteEventSubscriptions(connection, data.toString());
      return;
    }
    const text = data.toString();
    if (text.includes(EVENTS_PATH)) noteEventSubscriptions(connection, text);
  }

  function onClose(this: WebSocket) {
    const connection = bySocket.get(this);
    const sessionId = connection?.sessionId;
    if (!connection || !sessionId) return;
    const entry = bySession.get(sessionId);
    if (entry === connection) bySession.delete(sessionId);
    else if (entry instanceof Set) {
      entry.delete(connection);
      if (entry.size === 0) bySession.delete(sessionId);
    }
  }

  return {
    /** Called on every new socket, before tRPC's handler sees its first message. */
    accept(socket: WebSocket): Connection {
      const connection: Connection = {
        socket,
        sessionId: null,
        subscriptions: 0,
        eventSubscriptionIds: null,
        eventStreamOpen: false,
      };
      bySocket.set(socket, connection);
      socket.on('message', onMessage);
      return connection;
    },

    /** Binds the connection to the session its context was created with. */
    bind(socket: WebSocket, sessionId: string | null): Connection {
      const connection = bySocket.get(socket) ?? this.accept(socket);
      connection.sessionId = sessionId;
      if (sessionId) {
        const entry = bySession.get(sessionId);
        if (!entry) bySession.set(sessionId, connection);
        else if (entry instanceof Set) entry.add(connection);
        else if (entry !== connection) bySession.set(sessionId, new Set([entry, connection]));
        socket.on('close', onClose);
      }
      return connection;
    },

    /** Closes every socket of these sessions. */
    closeSessions(sessionIds: Iterable<string>): void {
      for (const id of sessionIds) {
        const entry = bySession.get(id);
        for (const connection of entry instanceof Set ? entry : entry ? [entry] : []) {
          connection.socket.close(CLOSE_SESSION_ENDED, 'session ended');
        }
        bySession.delete(id);
      }
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
