import { createClient, type SecureChatClient } from '@securechat/client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../test/fixtures.ts';
import { uniqueName } from '../test/harness.ts';
import { canary, watchSecret } from './canary.ts';
import { startReliabilityServer, type ReliabilityServer } from './server.ts';

/**
 * Real end-to-end traffic whose secrets are canaries: passwords, session tokens, message text,
 * file names and contents, event titles go through the real client (packages/client, encrypting
 * with packages/crypto) to a server whose database, WAL, file store and log stay in the run
 * directory. The canary scan at the end of the suite proves none of it reached the server's disk.
 */
let server: ReliabilityServer;
const clients: SecureChatClient[] = [];
beforeAll(async () => {
  server = await startReliabilityServer('canary-traffic', { LOG_LEVEL: 'debug' });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

async function person(prefix: string) {
  const client = createClient({
    url: server.url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  clients.push(client);
  const username = uniqueName(prefix);
  const password = canary('password');
  const user = await client.auth.register(username, password);
  watchSecret('token', client.token!);
  await client.devices.setup();
  return { client, id: user.id, username, password };
}

describe('canary traffic (scanned at the end of the suite)', () => {
  it('sends messages and a file whose text, name and content are canaries', async () => {
    const alice = await person('alice');
    const bob = await person('bob');
    // A second sign-in: another token, and the password checked against its hash.
    const again = createClient({
      url: server.url,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    clients.push(again);
    await again.auth.login(alice.username, alice.password);
    watchSecret('token', again.token!);

    const { id } = await alice.client.conversations.openDirect(bob.username);
    const text = canary('message');
    const sent = await alice.client.messages.send(id, { text });
    const edited = canary('message');
    await alice.client.messages.edit(id, sent.id, edited);
    const listed = await bob.client.messages.list(id);
    expect(listed.find((m) => m.id === sent.id)?.text).toBe(edited);

    const name = `${canary('file-name')}.txt`;
    const content = Buffer.from(`${canary('file-content')}\n`.repeat(200));
    const file = await alice.client.files.send(id, new Uint8Array(content), {
      name,
      mime: 'text/plain',
      caption: canary('message'),
    });
    const message = (await bob.client.messages.list(id)).find((m) => m.id === file.id)!;
    expect(message.file?.name).toBe(name);
    expect((await readAll(bob.client.files.open(message))).equals(content)).toBe(true);
  });

  it('creates a calendar event whose title, description and location are canaries', async () => {
    const carol = await person('carol');
    const title = canary('event-title');
    const { event } = await carol.client.calendar.create({
      title,
      description: canary('event-title'),
      location: canary('event-title'),
      allDay: false,
      start: '2027-03-01T10:00:00Z',
      end: '2027-03-01T11:00:00Z',
      timeZone: 'Europe/Berlin',
    });
    expect((await carol.client.calendar.get(event.id)).title).toBe(title);
  });
});
