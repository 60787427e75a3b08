/// <reference types="node" />
/**
 * `pnpm bench`: throughput of Cobblestone-256 next to raw WebCrypto AES-256-GCM on the same
 * 64 MiB buffer in the same run, and message encrypt+sign / verify+decrypt rates. Writes
 * bench/results.json and prints a table.
 *
 * Method: each measurement is repeated (rounds interleaved so background load hits all of them
 * alike) and the median is reported, with the best alongside. "Raw" is one `encrypt`/`decrypt`
 * call over the whole buffer with one key and nonce: the ceiling for AES-GCM on this engine.
 * Message rates include everything `encryptMessage` / `decryptMessage` do (chain step, key
 * derivation, Ed25519, AES-GCM, padding, codecs, every receiver check), through one conversation.
 * Two figures: sequential (one message at a time: latency-bound, since each message needs a few
 * asynchronous WebCrypto calls) and concurrent (batches of 64 messages in flight, as when a client
 * sends a burst or decrypts a backlog after reconnecting). The targets are judged on the
 * concurrent figure; both are recorded.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { openChunked, sealChunked } from '../src/chunked.ts';
import {
  buildCommit,
  buildRoster,
  createDeviceDirectory,
  createDeviceKeys,
  createDeviceList,
  createSignedPrekey,
  decryptMessage,
  encryptMessage,
  generateUserSigningKey,
  openCommit,
  randomBytes,
  signDeviceCert,
  trustOnFirstUse,
  type Content,
} from '../src/index.ts';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const MESSAGE_ROUNDS = Number(process.env.BENCH_MESSAGE_ROUNDS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function benchBulk() {
  const plaintext = randomBytes(SIZE);
  const key = randomBytes(32);
  const aesKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  const iv = randomBytes(12);
  const rawCt = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aesKey, plaintext),
  );
  const cobCt = await sealChunked(key, plaintext);
  // Warm-up and a correctness check, so a fast wrong answer cannot pass as a result.
  const opened = await openChunked(key, cobCt);
  if (opened.length !== SIZE || opened[SIZE - 1] !== plaintext[SIZE - 1])
    throw new Error('Cobblestone round trip failed');

  const t = {
    rawSeal: [] as number[],
    rawOpen: [] as number[],
    cobSeal: [] as number[],
    cobOpen: [] as number[],
  };
  for (let r = 0; r < ROUNDS; r++) {
    t.rawSeal.push(
      await time(() => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aesKey, plaintext)),
    );
    t.cobSeal.push(await time(() => sealChunked(key, plaintext)));
    t.rawOpen.push(await time(() => crypto.subtle.decrypt({ name: 'AES-GCM', iv }, aesKey, rawCt)));
    t.cobOpen.push(await time(() => openChunked(key, cobCt)));
  }
  const mibps = (secs: number[]) => ({
    medianMiBps: round1(64 / median(secs)),
    bestMiBps: round1(64 / Math.min(...secs)),
  });
  return {
    bufferMiB: 64,
    rounds: ROUNDS,
    rawAesGcmSeal: mibps(t.rawSeal),
    rawAesGcmOpen: mibps(t.rawOpen),
    cobblestoneSeal: mibps(t.cobSeal),
    cobblestoneOpen: mibps(t.cobOpen),
  };
}

async function benchMessages() {
  const now = 1_700_000_000_000;
  const makeUser = async () => {
    const userId = randomBytes(16);
    const { usk } = await generateUserSigningKey();
    const keys = await createDeviceKeys(userId);
    const cert = await signDeviceCert(usk, {
      userId,
      deviceId: keys.deviceId,
      dskPublicKey: keys.signing.publicKey,
      createdAtMs: now,
      displayName: 'bench',
    });
    const list = await createDeviceList(usk, userId, [cert]);
    return { userId, usk, keys, list, spk: await createSignedPrekey(keys, 1, now) };
  };
  const alice = await makeUser();
  const bob = await makeUser();
  const directory = createDeviceDirectory(
    await Promise.all([alice, bob].map((u) => trustOnFirstUse(u.userId, u.usk.publicKey, u.list))),
  );
  const roster = await buildRoster({
    convId: randomBytes(16),
    members: [alice, bob].map((u) => ({ userId: u.userId, uskPublicKey: u.usk.publicKey })),
    by: alice.keys,
    nowMs: now,
  });
  const commit = await buildCommit({
    sender: alice.keys,
    roster,
    recipients: [
      {
        userId: bob.userId,
        deviceId: bob.keys.deviceId,
        signingPublicKey: bob.keys.signing.publicKey,
        prekey: bob.spk,
      },
    ],
  });
  const { state: bobState } = await openCommit({
    device: bob.keys,
    prekey: bob.spk,
    envelope: commit.envelopes[0]!.envelope,
    roster: commit.roster,
    directory,
  });
  const content: Content = {
    type: 'text',
    text: 'The quick brown fox jumps over the lazy dog. '.repeat(3),
    replyTo: null,
  };

  const ctx = { convId: roster.convId, epochs: bobState, directory };
  const enc = () =>
    encryptMessage({ state: commit.state, sender: alice.keys, content }).then((m) => m.wire);
  const BATCH = 64;

  // One round: MESSAGES sequentially, then MESSAGES with BATCH in flight; each direction timed.
  const round = async () => {
    let wires: Uint8Array[] = [];
    const seqEnc = await time(async () => {
      for (let i = 0; i < MESSAGES; i++) wires.push(await enc());
    });
    const seqDec = await time(async () => {
      for (const wire of wires) await decryptMessage(wire, ctx);
    });
    wires = [];
    const conEnc = await time(async () => {
      for (let i = 0; i < MESSAGES; i += BATCH) {
        wires.push(
          ...(await Promise.all(Array.from({ length: Math.min(BATCH, MESSAGES - i) }, enc))),
        );
      }
    });
    let accepted = 0;
    const conDec = await time(async () => {
      for (let i = 0; i < wires.length; i += BATCH) {
        accepted += (
          await Promise.all(wires.slice(i, i + BATCH).map((w) => decryptMessage(w, ctx)))
        ).length;
      }
    });
    if (accepted !== MESSAGES) throw new Error('not every message decrypted');
    return { seqEnc, seqDec, conEnc, conDec, wireBytes: wires[0]!.length };
  };

  await round(); // warm-up: JIT, key caches
  const rounds: Awaited<ReturnType<typeof round>>[] = [];
  for (let r = 0; r < MESSAGE_ROUNDS; r++) rounds.push(await round());
  const rate = (k: 'seqEnc' | 'seqDec' | 'conEnc' | 'conDec') =>
    Math.round(MESSAGES / median(rounds.map((x) => x[k])));
  return {
    messagesPerRound: MESSAGES,
    rounds: MESSAGE_ROUNDS,
    wireBytes: rounds[0]!.wireBytes,
    sequential: { encryptSignPerSec: rate('seqEnc'), verifyDecryptPerSec: rate('seqDec') },
    concurrent64: { encryptSignPerSec: rate('conEnc'), verifyDecryptPerSec: rate('conDec') },
  };
}

const bulk = await benchBulk();
const messages = await benchMessages();
const round2 = (x: number) => Math.round(x * 100) / 100;
const sealRatio = round2(bulk.cobblestoneSeal.medianMiBps / bulk.rawAesGcmSeal.medianMiBps);
const openRatio = round2(bulk.cobblestoneOpen.medianMiBps / bulk.rawAesGcmOpen.medianMiBps);
const results = {
  date: new Date().toISOString(),
  runtime: `node ${process.version}`,
  platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  loadAverageAtEnd: loadavg().map(round2),
  cobblestone: { ...bulk, sealRatioToRaw: sealRatio, openRatioToRaw: openRatio },
  messages,
  targets: {
    cobblestoneRatioToRaw: 0.8,
    cobblestoneMiBps: 500,
    messagesPerSec: 10_000,
  },
  meetsTargets: {
    sealRatio: sealRatio >= 0.8,
    openRatio: openRatio >= 0.8,
    sealMiBps: bulk.cobblestoneSeal.medianMiBps >= 500,
    openMiBps: bulk.cobblestoneOpen.medianMiBps >= 500,
    encryptSign: messages.concurrent64.encryptSignPerSec >= 10_000,
    verifyDecrypt: messages.concurrent64.verifyDecryptPerSec >= 10_000,
  },
};

const out = fileURLToPath(new URL('./results.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.table({
  'raw AES-256-GCM seal': {
    'MiB/s (median)': bulk.rawAesGcmSeal.medianMiBps,
    'MiB/s (best)': bulk.rawAesGcmSeal.bestMiBps,
  },
  'Cobblestone seal': {
    'MiB/s (median)': bulk.cobblestoneSeal.medianMiBps,
    'MiB/s (best)': bulk.cobblestoneSeal.bestMiBps,
    'ratio to raw': sealRatio,
  },
  'raw AES-256-GCM open': {
    'MiB/s (median)': bulk.rawAesGcmOpen.medianMiBps,
    'MiB/s (best)': bulk.rawAesGcmOpen.bestMiBps,
  },
  'Cobblestone open': {
    'MiB/s (median)': bulk.cobblestoneOpen.medianMiBps,
    'MiB/s (best)': bulk.cobblestoneOpen.bestMiBps,
    'ratio to raw': openRatio,
  },
});
console.table({
  'encrypt + sign': {
    'sequential msg/s': messages.sequential.encryptSignPerSec,
    '64 in flight msg/s': messages.concurrent64.encryptSignPerSec,
  },
  'verify + decrypt': {
    'sequential msg/s': messages.sequential.verifyDecryptPerSec,
    '64 in flight msg/s': messages.concurrent64.verifyDecryptPerSec,
  },
});
console.log(`wrote ${out}`);
