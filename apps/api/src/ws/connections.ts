import type { WebSocket } from 'ws';

/** Close code sent when the session behind a socket ends (logout, revoke, expiry). */
export const CLOSE_SESSION_ENDED = 4401;

/** Per-connection state kept for the socket's life. */
export interface Connection {
  socket: WebSocket;
  sessionId: string | null;
  subscriptions: number;
}

/**
 * Tracks open WebSockets by session so that ending a session closes its sockets at once:
 * a socket authenticated at connect time must not outlive the session.
 */
export function createConnectionRegistry() {
  const bySession = new Map<string, Set<Connection>>();

  return {
    register(socket: WebSocket, sessionId: string | null): Connection {
      const connection: Connection = { socket, sessionId, subscriptions: 0 };
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
    get size(): number {
      let n = 0;
      for (const set of bySession.values()) n += set.size;
      return n;
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
