import WebSocket from 'ws';
import superjson from 'superjson';

/** A WebSocket speaking tRPC's JSON-RPC by hand, to test the wire itself. */
export interface RawSocket {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; at: number }>;
  send(message: unknown): void;
  subscribe(id: number, path: string, input?: unknown): void;
  call(id: number, method: 'query' | 'mutation', path: string, input?: unknown): void;
  next(predicate: (message: any) => boolean, timeoutMs?: number): Promise<any>;
}

export async function openRawSocket(
  url: string,
  options: { token?: string; origin?: string; cookie?: string } = {},
): Promise<RawSocket> {
  const wsUrl = url.replace(/^http/, 'ws') + '/trpc' + (options.token ? '?connectionParams=1' : '');
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  const ws = new WebSocket(wsUrl, {
    headers,
    ...(options.origin ? { origin: options.origin } : {}),
  });
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    const text = data.toString();
    messages.push(text === 'PING' || text === 'PONG' ? text : JSON.parse(text));
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    ws.on('close', (code) => resolve({ code, at: Date.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  if (options.token) {
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: options.token } }));
  }
  const send = (message: unknown) =>
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  return {
    ws,
    messages,
    closed,
    send,
    subscribe(id, path, input) {
      send({ id, method: 'subscription', params: { path, input: superjson.serialize(input) } });
    },
    call(id, method, path, input) {
      send({ id, method, params: { path, input: superjson.serialize(input) } });
    },
    next(predicate, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < messages.length; seen++) {
            if (predicate(messages[seen])) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(messages[seen]);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
