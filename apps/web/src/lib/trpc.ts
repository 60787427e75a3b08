import type { AppRouter } from '@securechat/api';
import { createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { createTRPCReact } from '@trpc/react-query';
import superjson from 'superjson';

/** The typed React bindings for the whole API. */
export const trpc = createTRPCReact<AppRouter>();

/** Most calls batched into one HTTP request; the server refuses batches above its own limit. */
const MAX_BATCH_SIZE = 20;

/**
 * The tRPC client for this page, in cookie mode (mirrors `createTransport` in
 * packages/client/src/client.ts): queries and mutations over batched HTTP, subscriptions over a
 * WebSocket on the same `/trpc` path, superjson on both. The session lives in an HttpOnly cookie
 * that the browser sends with both, so no token ever reaches JavaScript.
 */
export function createTrpcClient(origin: string = window.location.origin) {
  const httpUrl = new URL('/trpc', origin);
  const wsUrl = new URL('/trpc', origin);
  wsUrl.protocol = httpUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  const wsClient = createWSClient({
    url: wsUrl.toString(),
    // Open the socket only while a subscription needs it.
    lazy: { enabled: true, closeMs: 10_000 },
    keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 10_000 },
  });

  const client = trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({
          url: httpUrl.toString(),
          transformer: superjson,
          maxItems: MAX_BATCH_SIZE,
          fetch: (input, init) =>
            fetch(input, { ...(init as RequestInit), credentials: 'same-origin' }),
        }),
      }),
    ],
  });
  return { client, wsClient };
}
