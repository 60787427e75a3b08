import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaqueUser, type OpaqueUser } from './fixtures.ts';
import { startTestServer, type TestServer } from './harness.ts';
import { openRawSocket } from './raw-ws.ts';

/**
 * Inputs the reliability fuzz (apps/api/reliability/fuzz.test.ts) found answered with a 500 or
 * logged as an unexpected error, each kept as the focused test that would have caught it.
 */
let server: TestServer;
let alice: OpaqueUser;

beforeAll(async () => {
  server = await startTestServer();
  alice = await opaqueUser(server.url, 'fz');
});
afterAll(async () => {
  await server.close();
});

describe('inputs the fuzz found answered with a 500', () => {
  it('settings.update with no fields changes nothing and returns the settings', async () => {
    await alice.client.api.settings.update.mutate({ sendTyping: false });
    expect(await alice.client.api.settings.update.mutate({})).toEqual({
      sendReadReceipts: true,
      sendTyping: false,
    });
    expect(await alice.client.api.settings.get.query()).toEqual({
      sendReadReceipts: true,
      sendTyping: false,
    });
    expect(server.logs.filter((line) => line.includes('unexpected error'))).toEqual([]);
  });

  it('does not log an oversized WebSocket frame as an unexpected error', async () => {
    const socket = await openRawSocket(server.url);
    socket.send('x'.repeat(1024 * 1024 + 1));
    expect((await socket.closed).code).toBe(1009);
    const errors = () => server.logs.filter((line) => /"level":(50|60)/.test(line));
    const logged = () => server.logs.some((line) => line.includes('"ws.protocol_error"'));
    const start = Date.now();
    while (!logged() && Date.now() - start < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(logged()).toBe(true);
    expect(errors()).toEqual([]);
  });
});
