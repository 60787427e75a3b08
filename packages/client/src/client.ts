import type { AppRouter } from '@securechat/api';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import superjson from 'superjson';

/** The typed tRPC client for the whole API. */
export type ApiClient = TRPCClient<AppRouter>;

export interface CreateClientOptions {
  /** The server's origin, e.g. `http://localhost:3000`. In a browser, defaults to the page's. */
  url?: string;
  /**
   * A bearer token (services and Node programs). Without one the client relies on the session
   * cookie, which is what browsers use.
   */
  token?: string | null;
  /** A WebSocket implementation; Node 20 has no global one, so pass `ws` there. */
  WebSocket?: typeof globalThis.WebSocket;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof globalThis.fetch;
  /** Most calls batched into one HTTP request (the server refuses larger batches). */
  maxBatchSize?: number;
}

/** A connection to the API: the raw typed client plus the transport's lifecycle. */
export interface Transport {
  /** The typed tRPC client: queries and mutations over HTTP, subscriptions over WebSocket. */
  readonly api: ApiClient;
  /** The bearer token in use, or null in cookie mode. */
  readonly token: string | null;
  /** The server's origin. */
  readonly baseUrl: URL;
  /** The fetch in use, for transfers outside tRPC (file blobs). */
  readonly fetch: typeof globalThis.fetch;
  /** The Authorization header value in bearer mode, else null. */
  authorization(): string | null;
  /** Switches to another bearer token (after sign-in); open subscriptions reconnect with it. */
  setToken(token: string | null): void;
  /** Closes the WebSocket; the client cannot be used afterwards. */
  close(): void;
}

function resolveBaseUrl(url: string | undefined): URL {
  if (url) return new URL(url);
  const location = (globalThis as { location?: { origin: string } }).location;
  if (location) return new URL(location.origin);
  throw new Error('url is required outside a browser');
}

/**
 * Connects to the SecureChat API: `httpBatchLink` for queries and mutations, `wsLink` on the same
 * path for subscriptions, superjson on both. Bearer mode sends `Authorization: Bearer …` over
 * HTTP and the token in the WebSocket's `connectionParams`; cookie mode (browsers) sends neither.
 */
export function createTransport(options: CreateClientOptions = {}): Transport {
  const base = resolveBaseUrl(options.url);
  const httpUrl = new URL('/trpc', base).toString();
  const wsBase = new URL('/trpc', base);
  wsBase.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  const wsUrl = wsBase.toString();
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  let token = options.token ?? null;
  let closed = false;

  function build() {
    const wsClient = createWSClient({
      url: wsUrl,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
      // Only bearer mode sends connection params; the server then waits for them before
      // creating the connection's context.
      ...(token !== null ? { connectionParams: { token } } : {}),
      lazy: { enabled: true, closeMs: 10_000 },
      keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 10_000 },
    });
    const authorization = token !== null ? `Bearer ${token}` : null;
    const api = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient, transformer: superjson }),
          false: httpBatchLink({
            url: httpUrl,
            transformer: superjson,
            maxItems: options.maxBatchSize ?? 20,
            fetch: (input, init) =>
              fetchImpl(input, { ...(init as RequestInit), credentials: 'same-origin' }),
            headers: () => (authorization ? { authorization } : {}),
          }),
        }),
      ],
    });
    return { api, wsClient };
  }

  let current = build();
  return {
    get api() {
      return current.api;
    },
    get token() {
      return token;
    },
    baseUrl: base,
    fetch: (input, init) => fetchImpl(input, { ...init, credentials: 'same-origin' }),
    authorization: () => (token !== null ? `Bearer ${token}` : null),
    setToken(next) {
      if (closed) throw new Error('client is closed');
      if (next === token) return;
      token = next;
      current.wsClient.close();
      current = build();
    },
    close() {
      if (closed) return;
      closed = true;
      current.wsClient.close();
    },
  };
}
