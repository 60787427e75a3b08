import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Db } from '@securechat/db';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { WebSocket } from 'ws';
import { sessionIdFromToken, type SessionService } from '../auth/sessions.ts';
import type { LoginThrottle } from '../auth/throttle.ts';
import type { Config } from '../env.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Hub } from '../events/hub.ts';
import type { BlobStore } from '../files/blob-store.ts';
import type { MessageWriter } from '../routers/messages/message-writer.ts';
import type { ConnectionRegistry, Connection } from '../ws/connections.ts';
import { readCookies, SESSION_COOKIE, KNOWN_DEVICE_COOKIE } from '../http/cookies.ts';
import { clientAddress } from '../http/request.ts';

/** The long-lived objects built once in main.ts and shared by every request. */
export interface ServerDeps {
  config: Config;
  db: Db;
  logger: Logger;
  sessions: SessionService;
  throttle: LoginThrottle;
  rateLimiter: RateLimiter;
  bus: EventBus;
  connections: ConnectionRegistry;
  hub: Hub;
  blobs: BlobStore;
  messageWriter: MessageWriter;
  /** Told when calendar events change, so reminders are planned again (absent: none fire). */
  reminders?: { changed(eventIds: readonly string[]): void };
  /** Verified against for unknown usernames, so they cost what a wrong password costs. */
  dummyPasswordHash: string;
}

export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string;
}

export interface Context {
  deps: ServerDeps;
  meta: RequestMeta;
  transport: 'http' | 'ws';
  /** SHA-256 of the presented session token (cookie, bearer header or connectionParams). */
  sessionId: string | null;
  /** Whether the token came from the cookie (browsers) rather than a bearer token. */
  cookieAuth: boolean;
  knownDeviceCookie: string | undefined;
  /** HTTP only: adds a Set-Cookie header to the response. */
  setCookie: ((cookie: string) => void) | null;
  /** WebSocket only: the connection's state (open subscriptions). */
  connection: Connection | null;
}

/** The bearer token of a request's Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return null;
  const token = header.slice('Bearer '.length).trim();
  return token || null;
}

/** The session id a plain HTTP request presents: bearer token first, else the session cookie. */
export function requestSessionId(req: IncomingMessage): string | null {
  const token = bearerToken(req) ?? readCookies(req.headers.cookie).get(SESSION_COOKIE) ?? null;
  return token ? sessionIdFromToken(token) : null;
}

function baseContext(
  deps: ServerDeps,
  req: IncomingMessage,
  transport: Context['transport'],
  explicitToken: string | null,
) {
  const cookies = readCookies(req.headers.cookie);
  const cookieToken = cookies.get(SESSION_COOKIE) ?? null;
  const token = explicitToken ?? cookieToken;
  return {
    deps,
    transport,
    meta: {
      requestId: randomUUID(),
      ip: clientAddress(req, deps.config.trustProxy),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
    },
    sessionId: token ? sessionIdFromToken(token) : null,
    cookieAuth: explicitToken === null && cookieToken !== null,
    knownDeviceCookie: cookies.get(KNOWN_DEVICE_COOKIE),
  };
}

/** Context for an HTTP request: one per request (a batch shares it). */
export function createHttpContext(
  deps: ServerDeps,
  opts: {
    req: IncomingMessage;
    res: { appendHeader(name: string, value: string): unknown };
    info: TRPCRequestInfo;
  },
): Context {
  return {
    ...baseContext(deps, opts.req, 'http', bearerToken(opts.req)),
    setCookie: (cookie) => opts.res.appendHeader('Set-Cookie', cookie),
    connection: null,
  };
}

/**
 * Context for a WebSocket: made once per connection and kept for its life, so every call
 * re-validates the session (see isAuthed) and the registry closes the socket when it ends.
 */
export function createWsContext(
  deps: ServerDeps,
  opts: { req: IncomingMessage; res: WebSocket; info: TRPCRequestInfo },
): Context {
  const fromParams = opts.info.connectionParams?.token;
  const base = baseContext(
    deps,
    opts.req,
    'ws',
    typeof fromParams === 'string' ? fromParams : null,
  );
  const connection = deps.connections.bind(opts.res, base.sessionId);
  return { ...base, setCookie: null, connection };
}
