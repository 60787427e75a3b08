// Two TypeScript services talk end-to-end encrypted through a SecureChat server.
// Run: SECURECHAT_URL=http://localhost:3000 pnpm exec tsx packages/client/examples/two-services.ts
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { createClient } from '@securechat/client';

const url = process.env.SECURECHAT_URL ?? 'http://localhost:3000';
const connect = () =>
  createClient({ url, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
const [reporter, archiver] = [connect(), connect()];
const suffix = randomUUID().slice(0, 8);

// Each service gets an account and sets up its device keys (keep the recovery key safe).
await reporter.auth.register(`reporter-${suffix}`, 'a long random password for the reporter');
await archiver.auth.register(`archiver-${suffix}`, 'a long random password for the archiver');
await reporter.devices.setup();
await archiver.devices.setup();

// The archiver listens; events() yields decrypted messages and resumes after reconnects.
const received = (async () => {
  for await (const event of archiver.events()) {
    if (event.type === 'message') return event.message;
  }
})();

const { id } = await reporter.conversations.openDirect(`archiver-${suffix}`);
await reporter.messages.send(id, { text: 'nightly build: green' });
const message = await received;
console.log(`${message?.sender.username} says: ${message?.text}`);
reporter.close();
archiver.close();
