import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cookieJarFetch, nodeClient, uniqueName } from '../test/harness.ts';
import { openRawSocket } from '../test/raw-ws.ts';
import { recordResult } from './results.ts';
import { startReliabilityServer, type ReliabilityServer } from './server.ts';

/**
 * The edges of the protocol an attacker (or a broken client) reaches before any procedure runs:
 * foreign origins, oversized bodies, frames and batches, subscription floods, and peers that
 * send too slowly or not at all. Each must be refused or closed as specified, and the server
 * must go on serving. Timeouts are shortened through their configuration so the test is quick;
 * the production values are the defaults in src/env.ts.
 */

const MAX_BODY_BYTES = 256 * 1024;
const MAX_WS_FRAME_BYTES = 64 * 1024;
const MAX_BATCH_SIZE = 20;
const MAX_SUBSCRIPTIONS = 5;
const HEADERS_TIMEOUT_MS = 2_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
const WS_PING_MS = 1_000;
const WS_PONG_WAIT_MS = 1_000;
// Node checks header deadlines every headersTimeout / 4 (server.ts) and keeps an idle socket a
// second past keepAliveTimeout; the rest allows for a loaded machine.
const SLACK_MS = 3_000;

let server: ReliabilityServer;

beforeAll(async () => {
  server = await startReliabilityServer('hostile', {
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_WS_FRAME_BYTES: String(MAX_WS_FRAME_BYTES),
    MAX_BATCH_SIZE: String(MAX_BATCH_SIZE),
    MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    WS_PING_MS: String(WS_PING_MS),
    WS_PONG_WAIT_MS: String(WS_PONG_WAIT_MS),
  });
});
afterAll(async () => {
  await server?.close();
});

async function stillServing(): Promise<boolean> {
  const response = await fetch(`${server.url}/trpc/server.info`);
  return response.status === 200;
}

const errorCode = (body: any): string | undefined => body?.error?.json?.data?.code;

/** A raw TCP connection that records what the server sent and when it closed. */
function rawConnection() {
  const socket: Socket = connect(server.port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  const opened = new Promise<number>((resolve) => socket.on('connect', () => resolve(Date.now())));
  return { socket, closed, opened, received: () => received };
}

describe('origin checks', () => {
  it('refuses a WebSocket handshake from a foreign Origin with 403', async () => {
    const refusals: string[] = [];
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1.evil.example`]) {
      try {
        const socket = await openRawSocket(server.url, { origin });
        socket.ws.close();
        refusals.push(`${origin}: upgraded`);
      } catch (error) {
        refusals.push(`${origin}: ${(error as Error).message}`);
      }
    }
    const own = await openRawSocket(server.url, { origin: server.url });
    own.ws.close();
    const pass = refusals.every((r) => r.endsWith('HTTP 403'));
    recordResult({
      property: 'Hostile protocol: WebSocket handshake from a foreign Origin',
      target: 'refused with 403, no upgrade',
      measured: `${refusals.join('; ')}; own origin upgraded`,
      pass,
    });
    expect(refusals).toEqual([
      'https://evil.example: HTTP 403',
      'null: HTTP 403',
      'http://127.0.0.1.evil.example: HTTP 403',
    ]);
  });

  it('refuses cross-site POSTs that carry the session cookie, and the session survives', async () => {
    const jar = cookieJarFetch();
    const username = uniqueName('xs');
    const registered = await jar(`${server.url}/trpc/auth.register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { username, password: PASSWORD } }),
    });
    expect(registered.status).toBe(200);
    const attempts: Record<string, Record<string, string>> = {
      'foreign Origin': { origin: 'https://evil.example' },
      'Origin: null': { origin: 'null' },
      'Sec-Fetch-Site: cross-site without Origin': { 'sec-fetch-site': 'cross-site' },
      'foreign Origin, form content type': {
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
    };
    const statuses: string[] = [];
    for (const [name, headers] of Object.entries(attempts)) {
      const response = await jar(`${server.url}/trpc/auth.logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
      statuses.push(`${name}: ${response.status}`);
    }
    const me = await jar(`${server.url}/trpc/auth.me`);
    const stillSignedIn = ((await me.json()) as any).result.data.json?.username === username;
    // The same request from the app's own page goes through.
    const own = await jar(`${server.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: '{}',
    });
    const pass = statuses.every((s) => s.endsWith(': 403')) && stillSignedIn && own.status === 200;
    recordResult({
      property: 'Hostile protocol: cross-site POST with the session cookie',
      target: 'refused with 403; the session is untouched',
      measured: `${statuses.join('; ')}; session ${stillSignedIn ? 'intact' : 'ENDED'}; same-origin POST ${own.status}`,
      pass,
    });
    expect(
      statuses.every((s) => s.endsWith(': 403')),
      statuses.join('; '),
    ).toBe(true);
    expect(stillSignedIn).toBe(true);
    expect(own.status).toBe(200);
  });
});

describe('size limits', () => {
  it('answers an oversized body with 413 PAYLOAD_TOO_LARGE and takes one just under the limit', async () => {
    const call = (passwordLength: number) =>
      fetch(`${server.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ json: { username: 'x', password: 'y'.repeat(passwordLength) } }),
      });
    const over = await call(MAX_BODY_BYTES + 1);
    const overCode = errorCode(await over.json());
    const under = await call(MAX_BODY_BYTES - 100);
    const underCode = errorCode(await under.json());
    const serving = await stillServing();
    const pass = over.status === 413 && overCode === 'PAYLOAD_TOO_LARGE' && under.status === 400;
    recordResult({
      property: `Hostile protocol: HTTP body over the limit (${MAX_BODY_BYTES / 1024} KiB here)`,
      target: '413 PAYLOAD_TOO_LARGE; just under the limit is read and validated',
      measured: `over: ${over.status} ${overCode}; under: ${under.status} ${underCode}; serving afterwards: ${serving}`,
      pass: pass && serving,
    });
    expect([over.status, overCode]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect([under.status, underCode]).toEqual([400, 'BAD_REQUEST']);
    expect(serving).toBe(true);
  });

  it('closes a WebSocket that sends an oversized frame with 1009, and no other', async () => {
    const near = await openRawSocket(server.url);
    near.send(
      `{"id":1,"method":"query","params":{"path":"auth.me","input":"${'a'.repeat(MAX_WS_FRAME_BYTES - 200)}"}}`,
    );
    const nearAnswer = await near.next((m) => m.id === 1);
    const nearOpen = near.ws.readyState === near.ws.OPEN;
    near.ws.close();
    const socket = await openRawSocket(server.url);
    const sentAt = Date.now();
    socket.send('x'.repeat(MAX_WS_FRAME_BYTES + 1));
    const closed = await socket.closed;
    const serving = await stillServing();
    recordResult({
      property: `Hostile protocol: WebSocket frame over the limit (${MAX_WS_FRAME_BYTES / 1024} KiB here)`,
      target: 'socket closed with 1009; a frame just under the limit is answered',
      measured: `closed with ${closed.code} after ${closed.at - sentAt} ms; under the limit: answered, socket ${nearOpen ? 'open' : 'CLOSED'}; serving afterwards: ${serving}`,
      pass: closed.code === 1009 && nearAnswer !== undefined && nearOpen && serving,
    });
    expect(closed.code).toBe(1009);
    expect(nearOpen).toBe(true);
    expect(serving).toBe(true);
  });

  it('refuses a batch over the limit with a typed error, over HTTP and WebSocket', async () => {
    const batch = (size: number) => {
      const inputs = Object.fromEntries(Array.from({ length: size }, (_, i) => [i, {}]));
      const paths = Array.from({ length: size }, () => 'auth.me').join(',');
      return fetch(
        `${server.url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`,
      );
    };
    const over = await batch(MAX_BATCH_SIZE + 1);
    const overBody: any = await over.json();
    const overCode = errorCode(Array.isArray(overBody) ? overBody[0] : overBody);
    const atLimit = await batch(MAX_BATCH_SIZE);
    const socket = await openRawSocket(server.url);
    socket.send(
      Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => ({
        id: i + 1,
        method: 'query',
        params: { path: 'auth.me' },
      })),
    );
    const wsRefusal = await socket.next((m) => m.error);
    const wsCode = errorCode(wsRefusal);
    socket.call(100, 'query', 'auth.me');
    const afterwards = await socket.next((m) => m.id === 100);
    socket.ws.close();
    const pass =
      over.status === 413 &&
      overCode === 'PAYLOAD_TOO_LARGE' &&
      atLimit.status === 200 &&
      wsCode === 'PARSE_ERROR' &&
      afterwards.result !== undefined;
    recordResult({
      property: `Hostile protocol: batch over the limit (${MAX_BATCH_SIZE} calls here)`,
      target: 'a typed error; a batch at the limit is served',
      measured: `HTTP ${over.status} ${overCode}; at the limit HTTP ${atLimit.status}; WebSocket ${wsCode}, socket still serving: ${afterwards.result !== undefined}`,
      pass,
    });
    expect([over.status, overCode]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(atLimit.status).toBe(200);
    expect(wsCode).toBe('PARSE_ERROR');
    expect(afterwards.result).toBeDefined();
  });

  it('refuses subscriptions past the per-connection cap with TOO_MANY_REQUESTS', async () => {
    const client = nodeClient(server.url);
    await client.auth.register(uniqueName('subs'), PASSWORD);
    const socket = await openRawSocket(server.url, { token: client.token! });
    const attempts = MAX_SUBSCRIPTIONS * 3;
    for (let id = 1; id <= attempts; id++) socket.subscribe(id, 'auth.sessions.onChange');
    const answers = await Promise.all(
      Array.from({ length: attempts }, (_, i) => socket.next((m) => m.id === i + 1)),
    );
    const started = answers.filter((m) => m.result?.type === 'started').length;
    const refused = answers.filter((m) => errorCode(m) === 'TOO_MANY_REQUESTS').length;
    socket.call(1000, 'query', 'auth.me');
    const usable = (await socket.next((m) => m.id === 1000)).result !== undefined;
    socket.ws.close();
    client.close();
    recordResult({
      property: `Hostile protocol: subscriptions past the cap on one connection (${MAX_SUBSCRIPTIONS} here)`,
      target: 'each refused with TOO_MANY_REQUESTS; the connection keeps working',
      measured: `${attempts} asked: ${started} started, ${refused} refused TOO_MANY_REQUESTS; connection usable: ${usable}`,
      pass: started === MAX_SUBSCRIPTIONS && refused === attempts - MAX_SUBSCRIPTIONS && usable,
    });
    expect(started).toBe(MAX_SUBSCRIPTIONS);
    expect(refused).toBe(attempts - MAX_SUBSCRIPTIONS);
    expect(usable).toBe(true);
  });
});

describe('slow and idle peers', () => {
  it('closes a slowloris connection dribbling its headers once the headers timeout passes', async () => {
    const connection = rawConnection();
    const openedAt = await connection.opened;
    const request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(500)}`;
    let sent = 0;
    const dribble = setInterval(() => {
      if (connection.socket.destroyed || sent >= request.length) return;
      connection.socket.write(request[sent++]!);
    }, 50);
    const closedAt = await connection.closed;
    clearInterval(dribble);
    const after = closedAt - openedAt;
    const status = connection.received().split('\r\n')[0] || 'no response';
    const serving = await stillServing();
    const pass =
      after >= HEADERS_TIMEOUT_MS - 100 && after <= HEADERS_TIMEOUT_MS + SLACK_MS && serving;
    recordResult({
      property: 'Hostile protocol: slowloris (headers sent one byte every 50 ms)',
      target: `closed within the headers timeout (${HEADERS_TIMEOUT_MS / 1000} s here, 20 s by default) plus Node's check interval`,
      measured: `closed after ${after} ms having sent ${sent} bytes (${status}); serving afterwards: ${serving}`,
      pass,
    });
    expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(after).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + SLACK_MS);
    expect(serving).toBe(true);
  });

  it('closes an idle keep-alive HTTP connection after the keep-alive timeout', async () => {
    const connection = rawConnection();
    await connection.opened;
    connection.socket.write(
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n',
    );
    const start = Date.now();
    while (!connection.received().includes('{"status":"ok"}')) {
      if (Date.now() - start > 5_000) throw new Error('no response');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const answeredAt = Date.now();
    const closedAt = await connection.closed;
    const idle = closedAt - answeredAt;
    const pass = idle >= KEEP_ALIVE_TIMEOUT_MS - 100 && idle <= KEEP_ALIVE_TIMEOUT_MS + SLACK_MS;
    recordResult({
      property: 'Hostile protocol: idle keep-alive HTTP connection',
      target: `closed after the keep-alive timeout (${KEEP_ALIVE_TIMEOUT_MS / 1000} s here, 5 s by default)`,
      measured: `closed ${idle} ms after its last response`,
      pass,
    });
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 100);
    expect(idle).toBeLessThanOrEqual(KEEP_ALIVE_TIMEOUT_MS + SLACK_MS);
  });

  it('closes a silent connection that never sends a request', async () => {
    const connection = rawConnection();
    const openedAt = await connection.opened;
    const closedAt = await Promise.race([
      connection.closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 30_000)),
    ]);
    connection.socket.destroy();
    const after = closedAt === -1 ? null : closedAt - openedAt;
    const pass = after !== null && after <= HEADERS_TIMEOUT_MS + SLACK_MS;
    recordResult({
      property: 'Hostile protocol: TCP connection that never sends a byte',
      target: `closed within the headers timeout (${HEADERS_TIMEOUT_MS / 1000} s here)`,
      measured: after === null ? 'still open after 30 s' : `closed after ${after} ms`,
      pass,
    });
    expect(after).not.toBeNull();
    expect(after!).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('terminates a WebSocket that never answers PING, and keeps one that does', async () => {
    const silent = await openRawSocket(server.url);
    const lively = await openRawSocket(server.url);
    lively.ws.on('message', (data) => {
      if (data.toString() === 'PING') lively.ws.send('PONG');
    });
    const openedAt = Date.now();
    const closed = await Promise.race([
      silent.closed,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000)),
    ]);
    const after = closed ? closed.at - openedAt : null;
    const pinged = silent.messages.includes('PING');
    // Three more ping rounds: the socket that answers must still be open.
    await new Promise((resolve) => setTimeout(resolve, 3 * (WS_PING_MS + WS_PONG_WAIT_MS)));
    const livelyOpen = lively.ws.readyState === lively.ws.OPEN;
    lively.ws.close();
    silent.ws.terminate();
    const limit = WS_PING_MS + WS_PONG_WAIT_MS;
    const pass = after !== null && after <= limit + SLACK_MS && pinged && livelyOpen;
    recordResult({
      property: 'Hostile protocol: idle WebSocket that never answers the keep-alive PING',
      target: `terminated after PING + wait (${limit / 1000} s here, 40 s by default); an answering socket stays`,
      measured: `${after === null ? 'still open after 15 s' : `terminated after ${after} ms (code ${closed!.code})`}; PING sent: ${pinged}; answering socket open after ${(4 * limit) / 1000} s: ${livelyOpen}`,
      pass,
    });
    expect(pinged).toBe(true);
    expect(after).not.toBeNull();
    expect(after!).toBeLessThanOrEqual(limit + SLACK_MS);
    expect(livelyOpen).toBe(true);
  });
});
