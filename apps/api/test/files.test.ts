import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { code, devicesOf, opaqueCommit, opaqueUser, type OpaqueUser } from './fixtures.ts';
import { startTestServer, waitFor, type TestServer } from './harness.ts';

let server: TestServer;
let alice: OpaqueUser;
let bob: OpaqueUser;
let mallory: OpaqueUser;
let conversationId: string;

beforeAll(async () => {
  server = await startTestServer({
    MAX_FILE_BYTES: String(1024 * 1024),
    FILE_QUOTA_BYTES: String(3 * 1024 * 1024),
  });
  alice = await opaqueUser(server.url, 'fa');
  bob = await opaqueUser(server.url, 'fb');
  mallory = await opaqueUser(server.url, 'fm');
  ({ id: conversationId } = await alice.client.api.conversations.openDirect.mutate({
    username: bob.username,
  }));
  await opaqueCommit(alice, conversationId, null, devicesOf(alice, bob));
});
afterAll(async () => {
  await server.close();
});

const auth = (user: OpaqueUser) => ({ authorization: `Bearer ${user.client.token}` });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const newId = () => randomBytes(16).toString('hex');

async function upload(user: OpaqueUser, bytes: Buffer, conversation = conversationId) {
  const { fileId } = await user.client.api.files.createUpload.mutate({
    conversationId: conversation,
    size: bytes.length,
  });
  const put = await fetch(`${server.url}/files/${fileId}`, {
    method: 'PUT',
    headers: auth(user),
    body: new Uint8Array(bytes),
  });
  return { fileId, put };
}

describe('file transfer', () => {
  for (const size of [0, 1, 16 * 1024, 16 * 1024 + 1]) {
    it(`round-trips ${size} bytes, with a hash check and download headers`, async () => {
      const bytes = randomBytes(size);
      const { fileId, put } = await upload(alice, bytes);
      expect(put.status).toBe(201);
      // Not downloadable until completed with the matching hash.
      expect((await fetch(`${server.url}/files/${fileId}`, { headers: auth(bob) })).status).toBe(
        404,
      );
      await alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) });
      const response = await fetch(`${server.url}/files/${fileId}`, { headers: auth(bob) });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('content-disposition')).toBe(
        `attachment; filename="${fileId}.bin"`,
      );
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain('sandbox');
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    });
  }

  it('serves byte ranges, and refuses ranges outside the file with 416', async () => {
    const bytes = randomBytes(40_000);
    const { fileId } = await upload(alice, bytes);
    await alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) });
    const part = await fetch(`${server.url}/files/${fileId}`, {
      headers: { ...auth(bob), range: 'bytes=100-199' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/40000');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await fetch(`${server.url}/files/${fileId}`, {
      headers: { ...auth(bob), range: 'bytes=-16' },
    });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-16))).toBe(true);
    const outside = await fetch(`${server.url}/files/${fileId}`, {
      headers: { ...auth(bob), range: 'bytes=40000-' },
    });
    expect(outside.status).toBe(416);
  });

  it('refuses a completion whose hash differs, and removes the upload', async () => {
    const bytes = randomBytes(1000);
    const { fileId } = await upload(alice, bytes);
    expect(
      await code(
        alice.client.api.files.complete.mutate({ fileId, sha256: sha256(randomBytes(10)) }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await code(alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) })),
    ).toBe('NOT_FOUND');
  });

  it("refuses a non-member's download and upload", async () => {
    const bytes = randomBytes(100);
    const { fileId } = await upload(alice, bytes);
    await alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) });
    expect((await fetch(`${server.url}/files/${fileId}`, { headers: auth(mallory) })).status).toBe(
      404,
    );
    expect((await fetch(`${server.url}/files/${fileId}`)).status).toBe(401);
    expect(
      await code(mallory.client.api.files.createUpload.mutate({ conversationId, size: 10 })),
    ).toBe('NOT_FOUND');
    // Nor may anyone but its uploader send its bytes.
    const { fileId: id } = await alice.client.api.files.createUpload.mutate({
      conversationId,
      size: 3,
    });
    const put = await fetch(`${server.url}/files/${id}`, {
      method: 'PUT',
      headers: auth(bob),
      body: 'abc',
    });
    expect(put.status).toBe(404);
  });

  it('refuses path traversal in every form', async () => {
    for (const path of [
      '/files/..%2f..%2fetc%2fpasswd',
      '/files/../../etc/passwd',
      '/files/%2e%2e',
      '/files/abc',
      `/files/${'A'.repeat(32)}`,
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}${path}`, { headers: auth(alice), path }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
      expect([400, 404]).toContain(status);
    }
  });

  it('refuses a file over the size limit early, and enforces the quota', async () => {
    const tooBig = code(
      alice.client.api.files.createUpload.mutate({
        conversationId,
        size: 1024 * 1024 + 1,
      }),
    );
    expect(await tooBig).toBe('PAYLOAD_TOO_LARGE');
    const { fileId } = await upload(alice, randomBytes(10));
    // More bytes than declared: 413, and the upload is gone.
    const more = await fetch(`${server.url}/files/${fileId}`, {
      method: 'PUT',
      headers: auth(alice),
      body: new Uint8Array(randomBytes(11)),
    });
    expect([409, 413]).toContain(more.status);
    const quotaUser = await opaqueUser(server.url, 'fq');
    const { id } = await quotaUser.client.api.conversations.openNotes.mutate();
    for (let i = 0; i < 3; i++) {
      await quotaUser.client.api.files.createUpload.mutate({
        conversationId: id,
        size: 1024 * 1024,
      });
    }
    expect(
      await code(
        quotaUser.client.api.files.createUpload.mutate({
          conversationId: id,
          size: 1,
        }),
      ),
    ).toBe('PAYLOAD_TOO_LARGE');
    expect((await quotaUser.client.api.files.usage.query()).usedBytes).toBe(3 * 1024 * 1024);
  });

  it('leaves nothing behind when an upload is interrupted', async () => {
    const { fileId } = await alice.client.api.files.createUpload.mutate({
      conversationId,
      size: 500_000,
    });
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/files/${fileId}`, {
        method: 'PUT',
        headers: { ...auth(alice), 'content-length': '500000' },
      });
      req.on('error', () => resolve());
      req.write(randomBytes(100_000), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    const tmp = join(server.dataDir, 'files', 'tmp');
    // No trace of this upload: neither its partial file nor a whole one.
    await waitFor(
      () => !readdirSync(tmp).some((name) => name.startsWith(fileId)),
      3000,
      'partial upload removed',
    );
    expect(existsSync(join(server.dataDir, 'files', fileId.slice(0, 2), fileId))).toBe(false);
    expect(
      await code(alice.client.api.files.complete.mutate({ fileId, sha256: '0'.repeat(64) })),
    ).toBe('NOT_FOUND');
  });

  it("deletes a message's files with the message", async () => {
    const bytes = randomBytes(64);
    const { fileId } = await upload(alice, bytes);
    await alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) });
    const clientMessageId = newId();
    await alice.client.api.messages.send.mutate({
      conversationId,
      epoch: 0,
      clientMessageId,
      sentAt: new Date(),
      ciphertext: randomBytes(300).toString('base64url'),
      fileIds: [fileId],
    });
    expect(
      (await bob.client.api.files.list.query({ conversationId })).map((f) => f.fileId),
    ).toContain(fileId);
    await alice.client.api.messages.delete.mutate({ conversationId, clientMessageId });
    expect((await fetch(`${server.url}/files/${fileId}`, { headers: auth(bob) })).status).toBe(404);
    expect(existsSync(join(server.dataDir, 'files', fileId.slice(0, 2), fileId))).toBe(false);
  });

  it('lets the uploader or an admin delete a file, nobody else', async () => {
    const bytes = randomBytes(64);
    const { fileId } = await upload(alice, bytes);
    await alice.client.api.files.complete.mutate({ fileId, sha256: sha256(bytes) });
    expect(await code(bob.client.api.files.delete.mutate({ fileId }))).toBe('FORBIDDEN');
    await alice.client.api.files.delete.mutate({ fileId });
    expect((await fetch(`${server.url}/files/${fileId}`, { headers: auth(bob) })).status).toBe(404);
  });
});
