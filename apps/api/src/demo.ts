import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiErrorCode, createClient, type SecureChatClient } from '@securechat/client';
import WebSocket from 'ws';
import { startApp } from './app.ts';
import { loadConfigOrExit } from './env.ts';
import { stopOnSignals } from './lifecycle.ts';
import { createLogger } from './logger.ts';

/**
 * `pnpm demo`: the server in demo mode with accounts user1, user2 and user3 (password
 * "password123", which only demo mode accepts) and a few conversations. Everything is created
 * through packages/client, so the messages are really end-to-end encrypted: the server stores
 * only ciphertext, like for any other user.
 */
const DEMO_PASSWORD = 'password123';
const USERS = ['user1', 'user2', 'user3'] as const;

const config = loadConfigOrExit({ ...process.env, DEMO: 'true' });
const logger = createLogger(config.logLevel);
logger.warn(
  { event: 'demo.mode' },
  `DEMO MODE: accounts ${USERS.join(', ')} with password "${DEMO_PASSWORD}". Never run demo mode with real data.`,
);
const app = await startApp(config, logger);
stopOnSignals(app, logger);

const url = `http://127.0.0.1:${app.port}`;
const clients: Record<string, SecureChatClient> = {};
let fresh = true;
for (const name of USERS) {
  const client = createClient({
    url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    deviceName: 'Demo seeder',
  });
  try {
    await client.auth.register(name, DEMO_PASSWORD);
  } catch (error) {
    if (apiErrorCode(error) !== 'CONFLICT') throw error;
    fresh = false;
  }
  clients[name] = client;
}

if (fresh) {
  const keys: string[] = [];
  for (const name of USERS) {
    const { recoveryKey } = await clients[name]!.devices.setup();
    keys.push(`${name}: ${recoveryKey}`);
  }
  const [one, two, three] = USERS.map((name) => clients[name]!);
  const { id: direct } = await one!.conversations.openDirect('user2');
  await one!.messages.send(direct, { text: 'Hi! This conversation is end-to-end encrypted.' });
  const question = await two!.messages.send(direct, { text: 'Nice. Can the server read this?' });
  await one!.messages.send(direct, {
    text: 'No: it only stores ciphertext.',
    replyTo: question.id,
  });
  await two!.messages.react(direct, question.id, '🔒');
  const { id: group } = await one!.conversations.createGroup({
    title: 'Demo team',
    members: ['user2', 'user3'],
  });
  await one!.messages.send(group, { text: 'Welcome to the demo team.' });
  await three!.messages.send(group, { text: 'Glad to be here.' });
  const file = join(config.dataDir, 'demo-recovery-keys.txt');
  writeFileSync(
    file,
    `Demo recovery keys: enter one when a browser asks to restore encryption for that account.\n${keys.join('\n')}\n`,
    { mode: 0o600 },
  );
  logger.warn(
    { event: 'demo.seeded', recoveryKeys: file },
    `demo data created; recovery keys are in ${file}`,
  );
} else {
  logger.warn({ event: 'demo.existing' }, 'demo accounts already exist; using the existing data');
}
for (const client of Object.values(clients)) client.close();
