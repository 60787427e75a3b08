import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureChatClient } from '@securechat/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, readAll } from './fixtures.ts';
import { startTestServer, type TestServer } from './harness.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

let server: TestServer;
const clients: SecureChatClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

describe('client.files', () => {
  it('sends a file with a thumbnail and caption that the other member opens, verified', async () => {
    const alice = await person(server.url, 'alice');
    const bob = await person(server.url, 'bob');
    clients.push(alice.client, bob.client);
    const { id: conversationId } = await alice.client.conversations.openDirect(bob.username);

    const canary = `client-files-canary-${randomBytes(8).toString('hex')}`;
    const content = Buffer.concat([
      Buffer.from(`${canary}\n`.repeat(3000)),
      randomBytes(20_000 + 7),
    ]);
    const thumbBytes = Buffer.from(`thumb-${canary}`);
    const progress: number[] = [];
    const sent = await alice.client.files.send(conversationId, new Uint8Array(content), {
      name: `${canary}.txt`,
      mime: 'text/plain',
      caption: 'the report',
      thumbnail: { data: new Uint8Array(thumbBytes), mime: 'image/jpeg' },
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(sent.id).toMatch(/^[0-9a-f]{32}$/);
    expect(progress.at(-1)).toBe(sent.file.ctLength);

    const messages = await bob.client.messages.list(conversationId);
    const message = messages.find((m) => m.id === sent.id)!;
    expect(message.text).toBe('the report');
    expect(message.file).toMatchObject({ name: `${canary}.txt`, mime: 'text/plain' });
    expect(message.file!.ptLength).toBe(content.length);
    expect(message.thumbnail?.mime).toBe('image/jpeg');

    expect((await readAll(bob.client.files.open(message))).equals(content)).toBe(true);
    expect((await readAll(bob.client.files.open(message.thumbnail!))).equals(thumbBytes)).toBe(
      true,
    );

    // Both files are stored in the conversation, linked to the message.
    const listed = await bob.client.files.list(conversationId);
    expect(listed.map((f) => f.messageId)).toEqual([sent.id, sent.id]);

    // Neither the name nor the content is on the server's disk in plaintext.
    for (const file of filesUnder(server.dataDir)) {
      expect(readFileSync(file).includes(canary), file).toBe(false);
    }
  });

  it('sends a Blob and a stream', async () => {
    const alice = await person(server.url, 'alice');
    clients.push(alice.client);
    const { id: conversationId } = await alice.client.conversations.openNotes();
    const bytes = randomBytes(50_000);
    const fromBlob = await alice.client.files.send(conversationId, new Blob([bytes]), {
      name: 'a.bin',
      mime: 'application/octet-stream',
    });
    expect((await readAll(alice.client.files.open(fromBlob.file))).equals(bytes)).toBe(true);
    const fromStream = await alice.client.files.send(conversationId, new Blob([bytes]).stream(), {
      name: 'b.bin',
      mime: 'application/octet-stream',
      size: bytes.length,
    });
    expect((await readAll(alice.client.files.open(fromStream.file))).equals(bytes)).toBe(true);
    await alice.client.files.delete(Buffer.from(fromStream.file.fileId).toString('hex'));
    expect((await alice.client.files.list(conversationId)).length).toBe(1);
  });
});
