import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { SessionQueries, Session } from '@securechat/db';

const DAY = 24 * 60 * 60 * 1000;
/** A session lives 30 days from its last use (sliding expiry). */
export const SESSION_TTL_MS = 30 * DAY;
// Extending the expiry costs a write, so it is done only once a session is half-way through.
const RENEW_WHEN_LEFT_MS = 15 * DAY;
// "Last seen" is only for display: record it at most once a minute per session.
const LAST_SEEN_GRANULARITY_MS = 60 * 1000;

export interface SessionUser {
  id: string;
  username: string;
}

export interface ValidSession {
  session: Session;
  user: SessionUser;
}

/** 20 random bytes (160 bits), base32: the secret the client holds. */
export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/** The stored id of a session: SHA-256 of its token, so the database never holds the token. */
export function sessionIdFromToken(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

/** Called with the ids of sessions that just ended, so open sockets can be closed. */
export type SessionsEndedListener = (sessionIds: string[], userId: string) => void;

/** Lucia-style session management over the session queries. */
export function createSessionService(queries: SessionQueries, now: () => number = Date.now) {
  const listeners = new Set<SessionsEndedListener>();
  const ended = (ids: string[], userId: string) => {
    if (ids.length > 0) for (const listener of listeners) listener(ids, userId);
  };

  return {
    onSessionsEnded(listener: SessionsEndedListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    create(userId: string, userAgent: string): { token: string; session: Session } {
      const token = generateSessionToken();
      const at = new Date(now());
      const session = queries.insert({
        id: sessionIdFromToken(token),
        userId,
        createdAt: at,
        lastSeenAt: at,
        expiresAt: new Date(at.getTime() + SESSION_TTL_MS),
        userAgent: userAgent.slice(0, 256),
      });
      return { token, session };
    },

    /**
     * The live session for a session id, or null. Expired sessions are deleted; live ones slide
     * their expiry forward and record activity.
     */
    validate(sessionId: string): ValidSession | null {
      const found = queries.withUser(sessionId);
      if (!found) return null;
      const t = now();
      const { session } = found;
      if (t >= session.expiresAt.getTime()) {
        queries.delete(session.id);
        ended([session.id], session.userId);
        return null;
      }
      const renew = session.expiresAt.getTime() - t < RENEW_WHEN_LEFT_MS;
      if (renew || t - session.lastSeenAt.getTime() >= LAST_SEEN_GRANULARITY_MS) {
        const lastSeenAt = new Date(t);
        const expiresAt = renew ? new Date(t + SESSION_TTL_MS) : undefined;
        queries.touch(session.id, lastSeenAt, expiresAt);
        // The device's "last seen" rides on the same once-a-minute write.
        if (session.deviceId) queries.touchDevice(session.deviceId, lastSeenAt);
        session.lastSeenAt = lastSeenAt;
        if (expiresAt) session.expiresAt = expiresAt;
      }
      return found;
    },

    /** Records which end-to-end device a session speaks for. */
    bindDevice(sessionId: string, deviceId: string): void {
      queries.setDevice(sessionId, deviceId);
    },

    invalidate(sessionId: string, userId: string): void {
      queries.delete(sessionId);
      ended([sessionId], userId);
    },

    /** Ends one of the user's sessions; false when it is not theirs or does not exist. */
    revokeForUser(userId: string, sessionId: string): boolean {
      const done = queries.deleteForUser(userId, sessionId);
      if (done) ended([sessionId], userId);
      return done;
    },

    /** Ends the user's sessions bound to these (revoked) devices; their sockets close too. */
    revokeForDevices(userId: string, deviceIds: string[]): number {
      const ids = queries.deleteForDevices(userId, deviceIds);
      ended(ids, userId);
      return ids.length;
    },

    revokeOthers(userId: string, keepSessionId: string): number {
      const ids = queries.deleteOthers(userId, keepSessionId);
      ended(ids, userId);
      return ids.length;
    },

    list(userId: string): Session[] {
      return queries.listForUser(userId);
    },

    deleteExpired(): number {
      return queries.deleteExpired(new Date(now()));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
