import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createDb, integrityCheck, messagePage } from '@securechat/db';
import { afterAll, expect, test } from 'vitest';
import { seed } from '../bench/lib/seed.ts';
import { EventStream } from './lib/event-stream.ts';
import { createHttpCaller, type HttpCaller } from './lib/trpc-http.ts';
import { profile } from './profile.ts';
import { recordResult } from './results.ts';
import { createRunDir, startServerProcess, type ServerProcess } from './server.ts';

/**
 * kill -9 during a burst of sends: several clients send concurrently (each send with its own
 * client message id), the server process is killed without warning mid-burst, and restarted on
 * the same data directory. Every acknowledged send must be on disk exactly once with the seq it
 * was acknowledged with, the database must pass SQLite's integrity check, every client must
 * resume its event stream after its last event id with no gap and no repeat, and the sends that
 * were in flight at the kill must resolve, when retried with the same id, to exactly one message.
 */
const { rounds, clients, minAckedSends } = profile.kill;
const perRound = Math.ceil((minAckedSends * 1.05) / rounds);
const IN_FLIGHT_PER_CLIENT = 4;

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.kill();
});

interface Sent {
  clientMessageId: string;
  ciphertext: string;
  sentAt: Date;
}

test(`kill -9 during send bursts: ${rounds} rounds, at least ${minAckedSends} acknowledged sends`, async () => {
  const dir = createRunDir('kill9');
  const seeded = seed(dir.dataDir, { groupSize: clients });
  const conversation = seeded.groups[0]!;
  const members = conversation.members;
  const streams = members.map((m) => new EventStream(m.token, seeded.lastEventId));

  const acked = new Map<string, number>(); // clientMessageId -> seq acknowledged
  let inDoubt: { token: string; sent: Sent }[] = [];
  const totals = {
    acked: 0,
    lost: 0,
    wrongSeq: 0,
    duplicatedRows: 0,
    seqGaps: 0,
    integrityFailures: [] as string[],
    inDoubt: 0,
    inDoubtCommitted: 0,
    retriedDuplicatesWrong: 0,
    streamMissing: 0,
    streamRepeated: 0,
    streamReplayed: 0,
    unexpectedErrors: [] as string[],
    killedAfterAcked: [] as number[],
    anomalies: [] as string[],
  };

  const send = (caller: HttpCaller, token: string, sent: Sent) =>
    caller.mutate(
      'messages.send',
      { conversationId: conversation.id, epoch: conversation.epoch, ...sent },
      token,
    );

  /** What survived: checked with the server down, straight from the file it left. */
  function checkDisk(): number {
    const handle = createDb(join(dir.dataDir, 'securechat.db'));
    try {
      const integrity = integrityCheck(handle);
      if (integrity.join() !== 'ok') totals.integrityFailures.push(...integrity.slice(0, 5));
      const rows = messagePage(handle.db, conversation.id, null, 10_000_000);
      const bySeq = new Set<number>();
      const byId = new Map<string, number>();
      for (const row of rows) {
        bySeq.add(row.seq);
        if (byId.has(row.clientMessageId)) totals.duplicatedRows += 1;
        byId.set(row.clientMessageId, row.seq);
      }
      const maxSeq = rows[0]?.seq ?? 0;
      totals.seqGaps = maxSeq - bySeq.size;
      totals.lost = 0;
      totals.wrongSeq = 0;
      for (const [id, seq] of acked) {
        const stored = byId.get(id);
        if (stored === undefined) totals.lost += 1;
        else if (stored !== seq) totals.wrongSeq += 1;
      }
      return maxSeq;
    } finally {
      handle.close();
    }
  }

  /** Reconnects every stream after its last event and waits until it has everything. */
  async function resume(server: ServerProcess, maxSeq: number) {
    for (const stream of streams) await stream.connect(server.port);
    await Promise.all(streams.map((s) => s.waitForSeq(conversation.id, maxSeq)));
  }

  let maxSeq = 0;
  for (let round = 0; round < rounds; round++) {
    const server = await startServerProcess('kill9', {}, dir);
    servers.push(server);
    const caller = createHttpCaller(server.port, clients * IN_FLIGHT_PER_CLIENT);
    await resume(server, maxSeq);

    // The sends in flight at the last kill: retried with the same id, each is one message.
    for (const { token, sent } of inDoubt) {
      const result = await send(caller, token, sent);
      if (!result.ok) {
        totals.unexpectedErrors.push(`retry: ${result.status} ${result.message}`);
        continue;
      }
      const data = result.data as { seq: number; duplicate: boolean };
      if (data.duplicate) totals.inDoubtCommitted += 1;
      acked.set(sent.clientMessageId, data.seq);
    }
    inDoubt = [];

    // The burst: every client keeps IN_FLIGHT_PER_CLIENT sends going until the server dies.
    let ackedThisRound = 0;
    let killing: Promise<void> | null = null;
    const target = Math.min(perRound, minAckedSends * 1.05 - acked.size + 1);
    const loops = members.flatMap((member) =>
      Array.from({ length: IN_FLIGHT_PER_CLIENT }, async () => {
        for (;;) {
          const sent: Sent = {
            clientMessageId: randomBytes(16).toString('hex'),
            ciphertext: randomBytes(96).toString('base64url'),
            sentAt: new Date(),
          };
          const result = await send(caller, member.token, sent);
          if (result.ok) {
            acked.set(sent.clientMessageId, (result.data as { seq: number }).seq);
            ackedThisRound += 1;
            if (ackedThisRound >= target && !killing) {
              totals.killedAfterAcked.push(ackedThisRound);
              killing = server.kill('SIGKILL');
            }
            continue;
          }
          if (result.status === 0 || killing) {
            // No answer: the server died with this send in flight. It may or may not be stored.
            inDoubt.push({ token: member.token, sent });
            totals.inDoubt += 1;
            return;
          }
          totals.unexpectedErrors.push(`${result.status} ${result.code}: ${result.message}`);
          return;
        }
      }),
    );
    await Promise.all(loops);
    await killing;
    await server.exited;
    caller.close();
    for (const stream of streams) stream.close();
    maxSeq = checkDisk();
    if (totals.unexpectedErrors.length > 0) break;
  }

  // A last restart: the streams resume and the in-doubt sends are settled.
  const server = await startServerProcess('kill9', {}, dir);
  servers.push(server);
  const caller = createHttpCaller(server.port, 8);
  await resume(server, maxSeq);
  for (const { token, sent } of inDoubt) {
    const result = await send(caller, token, sent);
    if (!result.ok) totals.unexpectedErrors.push(`retry: ${result.status} ${result.message}`);
    else {
      const data = result.data as { seq: number; duplicate: boolean };
      if (data.duplicate) totals.inDoubtCommitted += 1;
      acked.set(sent.clientMessageId, data.seq);
    }
  }
  let finalSeq = maxSeq;
  for (const seq of acked.values()) if (seq > finalSeq) finalSeq = seq;
  await Promise.all(streams.map((s) => s.waitForSeq(conversation.id, finalSeq)));
  caller.close();
  await server.stop();
  for (const stream of streams) {
    const audit = stream.audit(conversation.id);
    totals.streamMissing += audit.missing;
    totals.streamRepeated += audit.repeated;
    totals.streamReplayed += stream.replayed;
    totals.anomalies.push(...stream.anomalies);
    stream.close();
  }
  checkDisk();
  totals.acked = acked.size;

  const enough = totals.acked >= minAckedSends;
  const clean =
    totals.lost === 0 &&
    totals.wrongSeq === 0 &&
    totals.duplicatedRows === 0 &&
    totals.seqGaps === 0 &&
    totals.integrityFailures.length === 0;
  const resumed =
    totals.streamMissing === 0 && totals.streamRepeated === 0 && totals.streamReplayed === 0;
  recordResult({
    property: `kill -9 during send bursts (${clients} clients, ${rounds} rounds): acknowledged sends`,
    target: `≥ ${minAckedSends.toLocaleString('en')} acknowledged; 0 lost, 0 duplicated, integrity ok`,
    measured:
      `${totals.acked.toLocaleString('en')} acknowledged; ${totals.lost} lost, ${totals.duplicatedRows} duplicated, ` +
      `${totals.wrongSeq} with another seq, ${totals.seqGaps} seq gaps; integrity ` +
      `${totals.integrityFailures.length === 0 ? `ok after each of ${rounds} kills` : totals.integrityFailures.join('; ')}; ` +
      `${totals.inDoubt} in flight at the kills, ${totals.inDoubtCommitted} of them already stored (retry answered duplicate)`,
    pass: enough && clean && totals.unexpectedErrors.length === 0,
  });
  recordResult({
    property: 'kill -9 during send bursts: clients resume their event streams',
    target: '0 gaps, 0 repeats in each client’s seqs',
    measured: `${clients} clients × ${rounds} restarts resumed after their last event id: ${totals.streamMissing} missing, ${totals.streamRepeated + totals.streamReplayed} repeated; ${totals.streamMissing === 0 ? `every client has seqs 1–${finalSeq}` : `highest seq ${finalSeq}`}${totals.anomalies.length ? `; first: ${totals.anomalies.slice(0, 3).join('; ')}` : ''}`,
    pass: resumed,
  });
  expect(totals.unexpectedErrors).toEqual([]);
  expect(totals.integrityFailures).toEqual([]);
  expect({
    lost: totals.lost,
    wrongSeq: totals.wrongSeq,
    duplicated: totals.duplicatedRows,
    gaps: totals.seqGaps,
  }).toEqual({ lost: 0, wrongSeq: 0, duplicated: 0, gaps: 0 });
  expect(totals.acked).toBeGreaterThanOrEqual(minAckedSends);
  expect({
    missing: totals.streamMissing,
    repeated: totals.streamRepeated,
    replayed: totals.streamReplayed,
  }).toEqual({ missing: 0, repeated: 0, replayed: 0 });
});
