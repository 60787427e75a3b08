import { request } from 'node:http';
import { createTransport, apiErrorCode, fieldErrors } from '@securechat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { code as codeOf } from './fixtures.ts';
import { openRawSocket } from './raw-ws.ts';
import {
  PASSWORD,
  cookieJarFetch,
  nodeClient,
  startTestServer,
  uniqueName,
  type TestServer,
} from './harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('cookie sessions', () => {
  it('register signs in, me returns the user, logout ends it and me is null', async () => {
    const jar = cookieJarFetch();
    const { api } = createTransport({
      url: server.url,
      fetch: jar,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const username = uniqueName('Cookie');
    const { user, token } = await api.auth.register.mutate({ username, password: PASSWORD });
    expect(token).toBeNull();
    expect(user.username).toBe(username);
    expect(jar.cookies.get('securechat_session')).toMatch(/^[a-z2-7]{32}$/);

    expect(await api.auth.me.query()).toEqual({ id: user.id, username });
    await api.auth.logout.mutate();
    expect(jar.cookies.has('securechat_session')).toBe(false);
    expect(await api.auth.me.query()).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Lax, Path=/ cookie that is never stored in plain form', async () => {
    const response = await fetch(`${server.url}/trpc/auth.register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { username: uniqueName(), password: PASSWORD } }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers
      .getSetCookie()
      .find((c) => c.startsWith('securechat_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=2592000/);
    expect(cookie).not.toMatch(/Secure/);
    const token = cookie.split(';')[0]!.split('=')[1]!;
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(server.app.databasePath).includes(token)).toBe(false);
  });
});

describe('credentials', () => {
  it('refuses a wrong password with UNAUTHORIZED, and an unknown user with the same error', async () => {
    const client = nodeClient(server.url);
    const username = uniqueName();
    await client.auth.register(username, PASSWORD);
    const wrong = await caught(nodeClient(server.url).auth.login(username, 'not the password!'));
    const unknown = await caught(
      nodeClient(server.url).auth.login(uniqueName(), 'not the password!'),
    );
    expect(apiErrorCode(wrong)).toBe('UNAUTHORIZED');
    expect(apiErrorCode(unknown)).toBe('UNAUTHORIZED');
    expect((wrong as Error).message).toBe((unknown as Error).message);
  });

  it('refuses a duplicate username in any letter case with CONFLICT', async () => {
    const username = uniqueName('Dup');
    await nodeClient(server.url).auth.register(username, PASSWORD);
    expect(
      await codeOf(nodeClient(server.url).auth.register(username.toUpperCase(), PASSWORD)),
    ).toBe('CONFLICT');
    expect(
      await codeOf(nodeClient(server.url).auth.register(username.toLowerCase(), PASSWORD)),
    ).toBe('CONFLICT');
  });

  it('refuses a short password with BAD_REQUEST naming the password field', async () => {
    const error = await caught(nodeClient(server.url).auth.register(uniqueName(), 'short'));
    expect(apiErrorCode(error)).toBe('BAD_REQUEST');
    expect(fieldErrors(error).password?.[0]).toMatch(/at least 10 characters/);
  });

  it('refuses a common password with BAD_REQUEST naming the password field', async () => {
    const error = await caught(nodeClient(server.url).auth.register(uniqueName(), 'qwertyuiop'));
    expect(apiErrorCode(error)).toBe('BAD_REQUEST');
    expect(fieldErrors(error).password?.[0]).toMatch(/too common/);
  });

  it('refuses a bad username with BAD_REQUEST naming the username field', async () => {
    const error = await caught(nodeClient(server.url).auth.register('a b', PASSWORD));
    expect(apiErrorCode(error)).toBe('BAD_REQUEST');
    expect(fieldErrors(error).username?.[0]).toMatch(/letters, digits/);
  });

  it('changes the password and ends the other sessions', async () => {
    const username = uniqueName();
    const first = nodeClient(server.url);
    await first.auth.register(username, PASSWORD);
    const second = nodeClient(server.url);
    await second.auth.login(username, PASSWORD);

    const wrong = await caught(
      first.api.auth.changePassword.mutate({
        current: 'nope nope nope',
        next: 'a whole new secret 42',
      }),
    );
    expect(fieldErrors(wrong).current).toBeDefined();

    await first.api.auth.changePassword.mutate({
      current: PASSWORD,
      next: 'a whole new secret 42',
    });
    expect(await codeOf(second.api.auth.sessions.list.query())).toBe('UNAUTHORIZED');
    expect(await first.api.auth.me.query()).not.toBeNull();
    expect(await codeOf(nodeClient(server.url).auth.login(username, PASSWORD))).toBe(
      'UNAUTHORIZED',
    );
    await nodeClient(server.url).auth.login(username, 'a whole new secret 42');
  });
});

describe('bearer tokens', () => {
  it('work over HTTP and over WebSocket connectionParams, and are refused on both once revoked', async () => {
    const username = uniqueName();
    const owner = nodeClient(server.url);
    await owner.auth.register(username, PASSWORD);
    const service = nodeClient(server.url);
    await service.auth.login(username, PASSWORD);
    const token = service.token!;
    expect(token).toMatch(/^[a-z2-7]{32}$/);

    expect((await service.api.auth.me.query())?.username).toBe(username);
    const socket = await openRawSocket(server.url, { token });
    socket.call(1, 'query', 'auth.sessions.list');
    const listed = await socket.next((m) => m.id === 1);
    expect(listed.result.data.json.length).toBe(2);

    const mine = (await service.api.auth.sessions.list.query()).find((s) => s.current)!;
    await owner.api.auth.sessions.revoke.mutate({ id: mine.id });

    expect(await codeOf(service.api.auth.sessions.list.query())).toBe('UNAUTHORIZED');
    await socket.closed;
    const again = await openRawSocket(server.url, { token });
    again.call(2, 'query', 'auth.sessions.list');
    const refused = await again.next((m) => m.id === 2);
    expect(refused.error.json.data.code).toBe('UNAUTHORIZED');
    again.ws.close();
  });

  it("does not let one user revoke another user's session", async () => {
    const alice = nodeClient(server.url);
    await alice.auth.register(uniqueName('alice'), PASSWORD);
    const bob = nodeClient(server.url);
    await bob.auth.register(uniqueName('bob'), PASSWORD);
    const bobSession = (await bob.api.auth.sessions.list.query())[0]!;
    expect(await codeOf(alice.api.auth.sessions.revoke.mutate({ id: bobSession.id }))).toBe(
      'NOT_FOUND',
    );
    expect(await bob.api.auth.me.query()).not.toBeNull();
    const aliceSees = await alice.api.auth.sessions.list.query();
    expect(aliceSees.map((s) => s.id)).not.toContain(bobSession.id);
  });

  it('refuses every authenticated procedure without a session', async () => {
    const anonymous = nodeClient(server.url);
    expect(await codeOf(anonymous.api.auth.logout.mutate())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.api.auth.sessions.list.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.api.auth.sessions.revoke.mutate({ id: 'a'.repeat(64) }))).toBe(
      'UNAUTHORIZED',
    );
    expect(
      await codeOf(
        anonymous.api.auth.changePassword.mutate({ current: 'x', next: 'long enough pass 1' }),
      ),
    ).toBe('UNAUTHORIZED');
    expect(await anonymous.api.auth.me.query()).toBeNull();
    const socket = await openRawSocket(server.url);
    socket.subscribe(1, 'auth.sessions.onChange');
    expect((await socket.next((m) => m.id === 1)).error.json.data.code).toBe('UNAUTHORIZED');
    socket.ws.close();
  });
});

describe('ending a session closes its sockets', () => {
  for (const how of ['logout', 'revoke'] as const) {
    it(`stops an open subscription and closes its socket within one second of ${how}`, async () => {
      const username = uniqueName();
      const first = nodeClient(server.url);
      await first.auth.register(username, PASSWORD);
      const second = nodeClient(server.url);
      await second.auth.login(username, PASSWORD);

      const socket = await openRawSocket(server.url, { token: second.token! });
      socket.subscribe(1, 'auth.sessions.onChange');
      await socket.next((m) => m.id === 1 && m.result?.type === 'started');
      // The subscription is live: a new sign-in reaches it.
      await nodeClient(server.url).auth.login(username, PASSWORD);
      await socket.next((m) => m.id === 1 && m.result?.type === 'data');

      const endedAt = Date.now();
      if (how === 'logout') {
        await second.auth.logout();
      } else {
        const target = (await second.api.auth.sessions.list.query()).find((s) => s.current)!;
        await first.api.auth.sessions.revoke.mutate({ id: target.id });
      }
      const { code, at } = await socket.closed;
      expect(code).toBe(4401);
      expect(at - endedAt).toBeLessThan(1000);
      const dataBefore = socket.messages.filter((m) => m.result?.type === 'data').length;
      await nodeClient(server.url).auth.login(username, PASSWORD);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(socket.messages.filter((m) => m.result?.type === 'data').length).toBe(dataBefore);
    });
  }
});

describe('origin checks', () => {
  it('refuses a WebSocket upgrade from a foreign Origin with 403', async () => {
    await expect(openRawSocket(server.url, { origin: 'https://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    const ok = await openRawSocket(server.url, { origin: server.url });
    ok.ws.close();
  });

  it('refuses a cross-site form POST to a mutation with 403', async () => {
    const response = await fetch(`${server.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'a=b',
    });
    expect(response.status).toBe(403);
  });

  it('refuses a POST the browser marks cross-site even without an Origin', async () => {
    const response = await fetch(`${server.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });

  it('allows a configured origin and requests with no Origin', async () => {
    const other = await startTestServer({ ALLOWED_ORIGINS: 'https://app.example' });
    try {
      const allowed = await fetch(`${other.url}/trpc/auth.logout`, {
        method: 'POST',
        headers: { origin: 'https://app.example', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(allowed.status).toBe(401);
      const none = await fetch(`${other.url}/trpc/auth.logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(none.status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('limits', () => {
  it('answers an oversized body with 413', async () => {
    const response = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { username: 'x', password: 'y'.repeat(2 * 1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    const body: any = await response.json();
    expect(body.error.json.data.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('closes a socket that sends an oversized frame with 1009', async () => {
    const socket = await openRawSocket(server.url);
    socket.send('x'.repeat(1024 * 1024 + 1));
    expect((await socket.closed).code).toBe(1009);
  });

  it('refuses a batch larger than the cap with a typed error', async () => {
    const inputs = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [i, {}]));
    const paths = Array.from({ length: 51 }, () => 'auth.me').join(',');
    const response = await fetch(
      `${server.url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`,
    );
    expect(response.status).toBe(413);
    const socket = await openRawSocket(server.url);
    socket.send(
      Array.from({ length: 51 }, (_, i) => ({
        id: i + 1,
        method: 'query',
        params: { path: 'auth.me' },
      })),
    );
    expect((await socket.next((m) => m.error)).error.json.data.code).toBe('PARSE_ERROR');
    socket.ws.close();
  });

  it('refuses subscriptions past the per-connection cap with TOO_MANY_REQUESTS', async () => {
    const client = nodeClient(server.url);
    await client.auth.register(uniqueName(), PASSWORD);
    const socket = await openRawSocket(server.url, { token: client.token! });
    for (let id = 1; id <= 10; id++) socket.subscribe(id, 'auth.sessions.onChange');
    for (let id = 1; id <= 10; id++)
      await socket.next((m) => m.id === id && m.result?.type === 'started');
    socket.subscribe(11, 'auth.sessions.onChange');
    const refused = await socket.next((m) => m.id === 11);
    expect(refused.error.json.data.code).toBe('TOO_MANY_REQUESTS');
    // Stopping one frees its slot.
    socket.send({ id: 1, method: 'subscription.stop' });
    await socket.next((m) => m.id === 1 && m.result?.type === 'stopped');
    socket.subscribe(12, 'auth.sessions.onChange');
    expect((await socket.next((m) => m.id === 12)).result.type).toBe('started');
    socket.ws.close();
  });

  it('answers malformed JSON-RPC frames with an error and keeps serving', async () => {
    const socket = await openRawSocket(server.url);
    socket.send('{not json');
    expect((await socket.next((m) => m.error)).error.json.data.code).toBe('PARSE_ERROR');
    socket.send({ id: 5, method: 'query' });
    socket.send({ id: 6, method: 'query', params: { path: 'no.such.procedure', input: {} } });
    expect((await socket.next((m) => m.id === 6)).error.json.data.code).toBe('NOT_FOUND');
    socket.call(7, 'query', 'auth.me');
    expect((await socket.next((m) => m.id === 7)).result.data.json).toBeNull();
    const other = await openRawSocket(server.url);
    other.call(1, 'query', 'auth.me');
    expect((await other.next((m) => m.id === 1)).result).toBeDefined();
    socket.ws.close();
    other.ws.close();
  });

  it('rate limits calls per session with TOO_MANY_REQUESTS and a retry hint', async () => {
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '60' });
    try {
      const client = nodeClient(limited.url);
      await client.auth.register(uniqueName(), PASSWORD);
      let error: unknown;
      for (let i = 0; i < 30 && !error; i++) {
        try {
          await client.api.auth.me.query();
        } catch (e) {
          error = e;
        }
      }
      expect(apiErrorCode(error)).toBe('TOO_MANY_REQUESTS');
      expect(
        (error as { data: { retryAfterSeconds: number } }).data.retryAfterSeconds,
      ).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

function loginFrom(url: string, localAddress: string, username: string, password: string) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const body = JSON.stringify({ json: { username, password, bearer: true } });
    const req = request(
      `${url}/trpc/auth.login`,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('brute-force throttling', () => {
  it('stops the attacking address while the real user signs in from another at the first try', async () => {
    const username = uniqueName('victim');
    await nodeClient(server.url).auth.register(username, PASSWORD);
    let throttled: { status: number; body: any } | undefined;
    for (let i = 0; i < 15; i++) {
      const attempt = await loginFrom(server.url, '127.0.0.2', username, `guess number ${i}`);
      if (attempt.status === 429) {
        throttled = attempt;
        break;
      }
      expect(attempt.status).toBe(401);
    }
    expect(throttled?.body.error.json.data.code).toBe('TOO_MANY_REQUESTS');
    expect(throttled?.body.error.json.data.retryAfterSeconds).toBeGreaterThan(0);
    // Even the right password is refused from the attacking address while throttled...
    expect((await loginFrom(server.url, '127.0.0.2', username, PASSWORD)).status).toBe(429);
    // ...but the owner, elsewhere, is not locked out.
    const owner = await loginFrom(server.url, '127.0.0.3', username, PASSWORD);
    expect(owner.status).toBe(200);
    expect(owner.body.result.data.json.token).toMatch(/^[a-z2-7]{32}$/);
  });
});
