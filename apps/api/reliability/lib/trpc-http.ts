import { Agent, request } from 'node:http';
import superjson from 'superjson';

/** The outcome of one tRPC call over HTTP: the status, and the data or the error's code. */
export type CallResult =
  | { ok: true; status: number; data: unknown }
  | { ok: false; status: number; code: string | null; message: string }
  | { ok: false; status: 0; code: null; message: string; network: true };

/**
 * tRPC calls over plain HTTP, as the stock client's batch link puts them on the wire (one call
 * per request, superjson input, bearer token) through a keep-alive agent: cheap enough for load
 * and fault tests that send tens of thousands of calls, and every outcome comes back as a value
 * (a refused connection is `status: 0`), so a test can count acknowledgements exactly.
 */
export function createHttpCaller(port: number, maxSockets = 64) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  function call(
    kind: 'query' | 'mutation',
    path: string,
    input: unknown,
    token?: string,
  ): Promise<CallResult> {
    const serialized = JSON.stringify({ 0: superjson.serialize(input) });
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let target = `/trpc/${path}?batch=1`;
    let body: string | null = null;
    if (kind === 'query') target += `&input=${encodeURIComponent(serialized)}`;
    else {
      body = serialized;
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const attempt = (mayRetry: boolean): Promise<CallResult> =>
      new Promise((resolve) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: kind === 'query' ? 'GET' : 'POST',
            path: target,
            agent,
            headers,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (error) =>
              resolve({ ok: false, status: 0, code: null, message: error.message, network: true }),
            );
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString();
              let entry:
                | {
                    result?: { data?: unknown };
                    error?: { json?: { message?: string; data?: { code?: string } } };
                  }
                | undefined;
              try {
                entry = (JSON.parse(text) as (typeof entry)[])[0];
              } catch {
                entry = undefined;
              }
              if (status === 200 && entry?.result) {
                resolve({
                  ok: true,
                  status,
                  data: superjson.deserialize(entry.result.data as never),
                });
              } else {
                resolve({
                  ok: false,
                  status,
                  code: entry?.error?.json?.data?.code ?? null,
                  message: entry?.error?.json?.message ?? text.slice(0, 300),
                });
              }
            });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive socket the server closed as idle just as it was reused: the request never
          // reached the server, so it is sent once more, as Node's documentation advises.
          if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET') {
            resolve(attempt(false));
            return;
          }
          resolve({ ok: false, status: 0, code: null, message: error.message, network: true });
        });
        req.end(body ?? undefined);
      });
    return attempt(true);
  }
  return {
    query: (path: string, input: unknown, token?: string) => call('query', path, input, token),
    mutate: (path: string, input: unknown, token?: string) => call('mutation', path, input, token),
    close: () => agent.destroy(),
  };
}

export type HttpCaller = ReturnType<typeof createHttpCaller>;
