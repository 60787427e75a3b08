import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler, jsonEncoder } from '@trpc/server/adapters/ws';
import { TRPCError } from '@trpc/server';
import sirv from 'sirv';
import { WebSocketServer } from 'ws';
import { isStorageFull } from './errors.ts';
import { appRouter } from './router.ts';
import { createHttpContext, createWsContext, type ServerDeps } from './trpc/context.ts';
import { setSecurityHeaders } from './http/security-headers.ts';
import { originAllowed } from './http/request.ts';
import { createFileRoutes } from './files/routes.ts';

/** Close code telling clients the server is going away and they should reconnect elsewhere/later. */
export const CLOSE_GOING_AWAY = 1001;

export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  url: string;
  /** Graceful stop: refuse new work, tell sockets to reconnect, finish in-flight requests. */
  close(): Promise<void>;
}

/** An error the `ws` library raises for a frame that breaks the protocol (codes `WS_ERR_*`). */
function isPeerProtocolError(cause: unknown): cause is Error {
  const code = (cause as { code?: unknown } | null)?.code;
  return cause instanceof Error && typeof code === 'string' && code.startsWith('WS_ERR_');
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

/**
 * Builds the one-port server: tRPC over HTTP and WebSocket at /trpc, /healthz, and the built web
 * app with an SPA fallback. Long-lived dependencies come in through `deps` (made in main.ts).
 */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const { limits, timeouts } = config;

  let storageFullLoggedAt = 0;
  const onError = ({
    error,
    path,
    ctx,
  }: {
    error: TRPCError;
    path?: string | undefined;
    ctx?: { meta: { requestId: string } } | undefined;
  }) => {
    // Expected failures are answers, not incidents; only unexpected ones are logged, once.
    if (error.code === 'SERVICE_UNAVAILABLE' && isStorageFull(error.cause)) {
      // Once a minute at most: every write fails while the disk is full.
      if (Date.now() - storageFullLoggedAt > 60_000) {
        storageFullLoggedAt = Date.now();
        logger.error({ event: 'storage.full', path }, 'out of storage space: writes are refused');
      }
    } else if (isPeerProtocolError(error.cause)) {
      // A WebSocket peer broke the protocol (an oversized frame, say): the socket is closed
      // with the matching code; it is the peer's fault, not an incident of ours.
      logger.info(
        { event: 'ws.protocol_error', reason: error.cause.message, requestId: ctx?.meta.requestId },
        'closed a WebSocket that broke the protocol',
      );
    } else if (error.code === 'INTERNAL_SERVER_ERROR') {
      logger.error(
        { err: error.cause ?? error, path, requestId: ctx?.meta.requestId },
        'unexpected error',
      );
    }
  };

  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: limits.maxBodyBytes,
    createContext: (opts) => {
      if (opts.info.calls.length > limits.maxBatchSize) {
        throw new TRPCError({
          code: 'PAYLOAD_TOO_LARGE',
          message: `At most ${limits.maxBatchSize} calls may be batched in one request`,
        });
      }
      return createHttpContext(deps, opts);
    },
    onError,
  });

  const serveWeb = config.webDist
    ? sirv(config.webDist, {
        single: true,
        etag: true,
        gzip: false,
        setHeaders(res, pathname) {
          // Hashed build assets never change; the HTML shell must always be revalidated.
          res.setHeader(
            'Cache-Control',
            pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      })
    : null;

  const fileRoutes = createFileRoutes(deps);
  let draining = false;

  // Node checks header and request deadlines on this interval (30 s by default), so a slowloris
  // would otherwise hold its socket up to 30 s past the headers timeout.
  const connectionsCheckingInterval = Math.min(30_000, Math.max(250, timeouts.headersMs / 4));
  const httpServer = createHttpServer({ connectionsCheckingInterval }, (req, res) => {
    setSecurityHeaders(res, config.secureCookies);
    const url = req.url ?? '/';
    if (url === '/healthz' || url.startsWith('/healthz?')) {
      if (draining) return json(res, 503, { status: 'draining' });
      return json(res, 200, { status: 'ok' });
    }
    const path = url.split('?')[0]!;
    const isFiles = path.startsWith('/files/');
    const isApi = isFiles || path === '/trpc' || path.startsWith('/trpc/');
    // A state-changing request from a foreign page would carry the user's cookie: refuse it.
    if (
      isApi &&
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      !originAllowed(req, config.allowedOrigins)
    ) {
      return json(res, 403, { error: 'Origin not allowed' });
    }
    if (isFiles) {
      res.setHeader('Cache-Control', 'no-store');
      if (!fileRoutes(req, res, path)) json(res, 404, { error: 'Not found' });
      return;
    }
    if (isApi) {
      res.setHeader('Cache-Control', 'no-store');
      return trpcHandler(req, res);
    }
    if (serveWeb && (req.method === 'GET' || req.method === 'HEAD')) {
      return serveWeb(req, res, () => json(res, 404, { error: 'Not found' }));
    }
    json(res, 404, { error: 'Not found' });
  });
  // Slow headers are cut early (slowloris); a body may take long (a 100 MiB upload on a slow
  // link) but not stall: 60 s without a byte closes the socket.
  httpServer.headersTimeout = timeouts.headersMs;
  httpServer.requestTimeout = 30 * 60_000;
  httpServer.timeout = 60_000;
  httpServer.keepAliveTimeout = timeouts.keepAliveMs;

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxWsFrameBytes });
  // Registered before tRPC's handler, so connection state exists before its first message.
  wss.on('connection', (socket) => deps.connections.accept(socket));
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: (opts) => createWsContext(deps, opts),
    onError,
    keepAlive: { enabled: true, pingMs: timeouts.wsPingMs, pongWaitMs: timeouts.wsPongWaitMs },
    experimental_encoder: {
      encode: jsonEncoder.encode,
      decode(data) {
        const message = jsonEncoder.decode(data);
        if (Array.isArray(message) && message.length > limits.maxBatchSize) {
          throw new Error(`At most ${limits.maxBatchSize} calls may be batched in one frame`);
        }
        return message;
      },
    },
  });

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/trpc' && path !== '/trpc/') return refuse(socket, 404, 'Not Found');
    if (draining) return refuse(socket, 503, 'Service Unavailable');
    // Browsers send cookies with WebSocket handshakes from any site: the Origin decides.
    if (!originAllowed(req, config.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const endSessions = deps.sessions.onSessionsEnded((ids) => deps.connections.closeSessions(ids));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logger.info(
    { event: 'server.listening', port, host: config.host },
    `listening on http://${host}:${port}`,
  );

  return {
    port,
    url: `http://${host}:${port}`,
    async close() {
      if (draining) return;
      draining = true;
      endSessions();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      // Clients reconnect (to this server once restarted, or to another behind a balancer).
      wsHandler.broadcastReconnectNotification();
      httpServer.closeIdleConnections();
      for (const client of wss.clients) client.close(CLOSE_GOING_AWAY, 'server restarting');
      const force = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
        httpServer.closeAllConnections();
      }, 5_000);
      force.unref();
      await closed;
      clearTimeout(force);
      wss.close();
    },
  };
}
