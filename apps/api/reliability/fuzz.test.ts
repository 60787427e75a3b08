import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devicesOf,
  opaqueCommit,
  opaqueMessage,
  opaqueUser,
  type OpaqueUser,
} from '../test/fixtures.ts';
import { openRawSocket, type RawSocket } from '../test/raw-ws.ts';
import { profile } from './profile.ts';
import { recordResult } from './results.ts';
import { startServerProcess, type ServerProcess } from './server.ts';
import {
  RAW_BODIES,
  classify,
  encodeInput,
  errorCodeOf,
  listProcedures,
  sendCall,
  type ProcedureInfo,
  type WireRequest,
} from './trpc-wire.ts';
import { fuzzArbitrary, type FuzzInput } from './zod-arbitrary.ts';

/**
 * Every procedure of the API, found by walking the router, gets `profile.fuzz.runsPerProcedure`
 * generated inputs (valid, mutant and hostile; see zod-arbitrary.ts) as raw tRPC requests,
 * signed in and anonymous, plus bodies no superjson client would send. Subscriptions get the
 * same inputs over the WebSocket and over HTTP (which must refuse them). Nothing may answer
 * with a 5xx, an error outside tRPC's shape, an error in the server's log, or a crash.
 */

const TARGET = profile.fuzz.runsPerProcedure;
/** FUZZ_RUNS lowers the count while replaying one failure; the rows then fail their target. */
const RUNS = Number(process.env.FUZZ_RUNS) || TARGET;
/** FUZZ_ONLY=<path prefix> fuzzes only those procedures, to replay a failure; no rows then. */
const ONLY = process.env.FUZZ_ONLY ?? '';
const record: typeof recordResult = (result) => {
  if (!ONLY) recordResult(result);
};
const CONCURRENCY = 16;
/** Anonymous share of requests: authorization is checked before input, so few are needed. */
const ANONYMOUS_EVERY = 5;
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_WS_FRAME_BYTES = 1024 * 1024;
/** The seed of a run, printed with any failure so it can be replayed (FUZZ_SEED=...). */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

let server: ServerProcess;
let agent: Agent;

interface World {
  alice: OpaqueUser;
  bob: OpaqueUser;
  /** Ids and names of real rows, offered to the generator wherever a schema accepts them. */
  known: string[];
  /** The same, filed under the field names that take them. */
  knownByKey: Record<string, string[]>;
}

type Harvest = Map<string, Set<string>>;

/**
 * A fresh pair of users sharing a direct conversation with one message and one file, so valid
 * inputs find real rows. Each procedure gets its own: fuzzing `conversations.leave` or
 * `auth.logout` must not starve the procedures after it.
 */
async function createWorld(harvested: Harvest): Promise<World> {
  const alice = await opaqueUser(server.url, 'fa');
  const bob = await opaqueUser(server.url, 'fb');
  const { id: conversationId } = await alice.client.api.conversations.openDirect.mutate({
    username: bob.username,
  });
  await opaqueCommit(alice, conversationId, null, devicesOf(alice, bob));
  const message = opaqueMessage(conversationId, 0);
  await alice.client.api.messages.send.mutate(message);
  const { fileId } = await alice.client.api.files.createUpload.mutate({ conversationId, size: 0 });
  const calendar = await calendarOf(alice, bob, conversationId);
  const sessions = await alice.client.api.auth.sessions.list.query();
  const known = [
    alice.id,
    bob.id,
    alice.username,
    bob.username,
    alice.deviceId,
    bob.deviceId,
    conversationId,
    message.clientMessageId,
    fileId,
    calendar.eventId,
    ...calendar.recurrenceIds,
    ...sessions.map((s) => s.id),
  ];
  const knownByKey: Record<string, string[]> = {
    conversationId: [conversationId],
    userId: [alice.id, bob.id],
    recipientUserId: [bob.id],
    deviceId: [alice.deviceId],
    recipientDeviceId: [bob.deviceId],
    clientMessageId: [message.clientMessageId],
    fileId: [fileId],
    username: [bob.username, alice.username],
    member: [bob.username],
    eventId: [calendar.eventId],
    recurrenceId: calendar.recurrenceIds,
    from: calendar.recurrenceIds,
    exdate: calendar.recurrenceIds,
    contentRef: [calendar.contentRef],
  };
  // Rows of earlier procedures' users too (their ids must be refused, not crash anything), but
  // this world's own rows stay the likeliest pick for the fields they belong to.
  for (const [key, values] of harvested) {
    if (knownByKey[key]) known.push(...values);
    else knownByKey[key] = [...values];
  }
  return { alice, bob, known, knownByKey };
}

/**
 * A weekly event of alice's in the conversation, bob invited, with one occurrence changed on its
 * own and bob's answer for another: calendar inputs then meet every kind of row a change touches.
 * Its last content message is left unused, for inputs that need a fresh one.
 */
async function calendarOf(alice: OpaqueUser, bob: OpaqueUser, conversationId: string) {
  const content = async (by: OpaqueUser) => {
    const message = opaqueMessage(conversationId, 0);
    await by.client.api.messages.send.mutate(message);
    return message.clientMessageId;
  };
  const eventId = randomBytes(16).toString('hex');
  const recurrenceIds = ['2030-01-14T09:00:00Z', '2030-01-21T09:00:00Z'];
  const times = { allDay: false, timeZone: 'Europe/Berlin' };
  await alice.client.api.calendar.create.mutate({
    eventId,
    conversationId,
    series: {
      ...times,
      start: '2030-01-07T09:00:00Z',
      end: '2030-01-07T10:00:00Z',
      rrule: 'FREQ=WEEKLY',
      exdates: [],
      attendees: [bob.id],
      reminders: [10],
      revision: 1,
      contentRef: await content(alice),
    },
  });
  await alice.client.api.calendar.update.mutate({
    eventId,
    expectedRevision: 1,
    scope: 'this',
    recurrenceId: recurrenceIds[0],
    override: {
      ...times,
      recurrenceId: recurrenceIds[0]!,
      start: '2030-01-14T15:00:00Z',
      end: '2030-01-14T16:00:00Z',
      revision: 1,
      contentRef: await content(alice),
    },
  });
  await bob.client.api.calendar.rsvp.mutate({
    eventId,
    status: 'declined',
    rsvpRef: await content(bob),
    recurrenceId: recurrenceIds[1],
  });
  return { eventId, recurrenceIds, contentRef: await content(alice) };
}

const ID_LIKE = /^([0-9a-f]{32}|[0-9a-f]{64})$/;

/**
 * Files the id-like strings of a successful result under their field names, so procedures
 * fuzzed later (writes run after reads) aim at rows that exist.
 */
function harvest(body: string, into: Harvest) {
  const visit = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (!ID_LIKE.test(value)) return;
      const values = into.get(key) ?? new Set<string>();
      if (values.size < 50) values.add(value);
      into.set(key, values);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item, key);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k);
    }
  };
  try {
    visit(JSON.parse(body), '');
  } catch {
    // Not JSON: nothing to learn.
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface Tally {
  requests: number;
  httpRequests: number;
  wsRequests: number;
  ok: number;
  /** Error responses by tRPC code. */
  codes: Map<string, number>;
  /** Inputs the generator meant to be valid that the server accepted. */
  validSent: number;
  validAccepted: number;
  failures: string[];
}

/** What was sent, shortened, for a failure message. */
const describeInput = (kind: string, encoded: string) =>
  `${kind} ${encoded.length > 300 ? `${encoded.slice(0, 300)}… (${encoded.length} chars)` : encoded}`;

/** Labels are built only for failures: encoding megabyte inputs twice would dominate the run. */
type Label = () => string;

function fail(tally: Tally, message: string) {
  if (tally.failures.length < 30) tally.failures.push(message);
}

function countCode(tally: Tally, code: string) {
  tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
}

/** One request over HTTP; checks status and shape. */
async function httpCall(
  procedure: ProcedureInfo,
  request: WireRequest,
  tally: Tally,
  label: Label,
  kind: FuzzInput['kind'] | 'raw',
  harvested: Harvest,
) {
  tally.requests += 1;
  tally.httpRequests += 1;
  // Node's HTTP parser refuses a request line over its 16 KiB header limit before any handler
  // runs: a 431, or a reset when the socket closes while the client is still writing.
  const urlTooLong =
    request.method === 'GET' && encodeURIComponent(request.input ?? '').length > 16 * 1024;
  let response;
  try {
    response = await sendCall(server.url, agent, request);
  } catch (error) {
    if (urlTooLong && /ECONNRESET|EPIPE/.test(String(error))) {
      countCode(tally, 'HTTP 431');
      return;
    }
    fail(tally, `${procedure.path}: no response (${String(error)}) to ${label()}`);
    return;
  }
  if (response.status === 431 && urlTooLong) {
    countCode(tally, 'HTTP 431');
    return;
  }
  if (response.status >= 500) {
    fail(
      tally,
      `${procedure.path}: HTTP ${response.status} ${response.body.slice(0, 300)} to ${label()}`,
    );
    return;
  }
  const verdict = classify(response);
  if ('bad' in verdict) {
    fail(tally, `${procedure.path}: ${verdict.bad} to ${label()}`);
    return;
  }
  if ('ok' in verdict) {
    tally.ok += 1;
    harvest(response.body, harvested);
  } else {
    countCode(tally, verdict.code);
    if (verdict.code === 'INTERNAL_SERVER_ERROR') {
      fail(tally, `${procedure.path}: INTERNAL_SERVER_ERROR to ${label()}`);
    }
  }
  if (kind === 'valid' && request.token) {
    tally.validSent += 1;
    if ('ok' in verdict) tally.validAccepted += 1;
  }
}

/**
 * Subscribes over a WebSocket with each input in turn, stopping what starts; a socket closed
 * for an oversized frame (1009) is replaced, any other close is a failure.
 */
async function wsFuzz(procedure: ProcedureInfo, inputs: FuzzInput[], token: string, tally: Tally) {
  const lanes = 4;
  await pool(
    Array.from({ length: lanes }, (_, lane) => lane),
    lanes,
    async (lane) => {
      let socket: RawSocket | null = null;
      for (let index = lane; index < inputs.length; index += lanes) {
        const input = inputs[index]!;
        socket ??= await openRawSocket(server.url, { token });
        const current: RawSocket = socket;
        const id = index + 1;
        const frame = `{"id":${id},"method":"subscription","params":{"path":${JSON.stringify(procedure.path)},"input":${encodeInput(input.value)}}}`;
        const label = () => `WS ${describeInput(input.kind, frame)}`;
        tally.requests += 1;
        tally.wsRequests += 1;
        current.send(frame);
        const answer = await Promise.race([
          current.next((m) => m.id === id, 10_000).catch((error: Error) => ({ timeout: error })),
          current.closed.then((closed) => ({ closed })),
        ]);
        if ('closed' in answer) {
          const oversized = Buffer.byteLength(frame) > MAX_WS_FRAME_BYTES;
          if (answer.closed.code === 1009 && oversized) countCode(tally, 'WS close 1009');
          else fail(tally, `${procedure.path}: socket closed ${answer.closed.code} on ${label()}`);
          socket = null;
          continue;
        }
        if ('timeout' in answer) {
          fail(tally, `${procedure.path}: no answer on the WebSocket to ${label()}`);
          current.ws.terminate();
          socket = null;
          continue;
        }
        if (answer.result?.type === 'started') {
          tally.ok += 1;
          if (input.kind === 'valid') tally.validAccepted += 1;
          current.send({ id, method: 'subscription.stop' });
        } else {
          const code = errorCodeOf(answer.error);
          if (!code)
            fail(
              tally,
              `${procedure.path}: malformed WS answer ${JSON.stringify(answer).slice(0, 200)} to ${label()}`,
            );
          else {
            countCode(tally, code);
            if (code === 'INTERNAL_SERVER_ERROR')
              fail(tally, `${procedure.path}: INTERNAL_SERVER_ERROR to ${label()}`);
          }
        }
        if (input.kind === 'valid') tally.validSent += 1;
      }
      socket?.ws.close();
    },
  );
}

async function healthy(): Promise<boolean> {
  try {
    const response = await fetch(`${server.url}/healthz`);
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Stable per procedure, so a failure replays with FUZZ_SEED alone. */
const seedFor = (path: string) =>
  (SEED ^ createHash('sha256').update(path).digest().readUInt32BE(0)) >>> 0;

beforeAll(async () => {
  server = await startServerProcess('fuzz', {
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_WS_FRAME_BYTES: String(MAX_WS_FRAME_BYTES),
    // Input generation can stall this process for seconds on a loaded machine; a keep-alive
    // socket the server closed meanwhile would be reused and reset. Idle sockets are tested in
    // hostile.test.ts, not here.
    KEEP_ALIVE_TIMEOUT_MS: '120000',
  });
  agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
});

afterAll(async () => {
  agent?.destroy();
  await server?.stop();
});

describe('fuzzing every procedure', () => {
  it(`answers ${RUNS.toLocaleString('en-US')} generated inputs per procedure without a 5xx or a crash`, async () => {
    // Reads first (their results seed later inputs), then writes, then subscriptions.
    const order = { query: 0, mutation: 1, subscription: 2 } as const;
    const procedures = listProcedures()
      .filter((p) => !ONLY || p.path.startsWith(ONLY))
      .sort((a, b) => order[a.type] - order[b.type] || a.path.localeCompare(b.path));
    const harvested: Harvest = new Map();
    let nextWorld = createWorld(harvested);
    nextWorld.catch(() => {});
    const families = new Map<string, Tally & { procedures: number; minInputs: number }>();
    const crashes: string[] = [];
    const started = performance.now();
    let exited = false;
    void server.exited.then(() => (exited = true));

    for (const procedure of procedures) {
      const family = procedure.path.split('.')[0]!;
      const tally =
        families.get(family) ??
        ({
          procedures: 0,
          minInputs: Number.POSITIVE_INFINITY,
          requests: 0,
          httpRequests: 0,
          wsRequests: 0,
          ok: 0,
          codes: new Map(),
          validSent: 0,
          validAccepted: 0,
          failures: [],
        } as Tally & { procedures: number; minInputs: number });
      families.set(family, tally);
      tally.procedures += 1;

      const procedureStarted = performance.now();
      let world = await nextWorld;
      const worldMs = performance.now() - procedureStarted;
      // The next procedure's users are signed up while this one is fuzzed.
      nextWorld = createWorld(harvested);
      // Awaited at the next procedure; until then a failure must not count as unhandled.
      nextWorld.catch(() => {});
      const inputs = fc.sample(
        fuzzArbitrary(procedure.inputs, {
          knownStrings: world.known,
          knownByKey: world.knownByKey,
          maxBodyBytes: MAX_BODY_BYTES,
        }),
        { numRuns: RUNS, seed: seedFor(procedure.path) },
      );
      tally.minInputs = Math.min(tally.minInputs, inputs.length);

      const chunk = 250;
      for (let from = 0; from < inputs.length; from += chunk) {
        // A fuzzed sign-out or revocation may have ended the session: start over with a new one.
        if (from > 0 && (await world.alice.client.api.auth.me.query()) === null) {
          world = await createWorld(harvested);
        }
        const token = world.alice.client.token!;
        await pool(inputs.slice(from, from + chunk), CONCURRENCY, async (input, offset) => {
          const index = from + offset;
          const anonymous = index % ANONYMOUS_EVERY === ANONYMOUS_EVERY - 1;
          const encoded = encodeInput(input.value);
          const label = () =>
            `${anonymous ? 'anonymous' : 'signed in'} ${describeInput(input.kind, encoded)}`;
          const method = procedure.type === 'mutation' ? 'POST' : 'GET';
          await httpCall(
            procedure,
            {
              method,
              path: procedure.path,
              ...(input.value === undefined && method === 'GET' ? {} : { input: encoded }),
              ...(anonymous ? {} : { token }),
              ...(procedure.type === 'subscription' ? { timeoutMs: 10_000 } : {}),
            },
            tally,
            label,
            input.kind,
            harvested,
          );
        });
        if (procedure.type === 'subscription') {
          await wsFuzz(procedure, inputs.slice(from, from + chunk), token, tally);
        }
      }
      // Bodies and query strings no superjson client would send.
      await pool(RAW_BODIES, CONCURRENCY, (raw) =>
        httpCall(
          procedure,
          {
            method: procedure.type === 'mutation' ? 'POST' : 'GET',
            path: procedure.path,
            input: raw,
            token: world.alice.client.token!,
            ...(procedure.type === 'subscription' ? { timeoutMs: 10_000 } : {}),
          },
          tally,
          () => `raw ${raw.slice(0, 120)}`,
          'raw',
          harvested,
        ),
      );
      world.alice.client.close();
      world.bob.client.close();
      if (process.env.FUZZ_VERBOSE) {
        console.info(
          `${procedure.path}: world ${worldMs.toFixed(0)} ms, total ${(performance.now() - procedureStarted).toFixed(0)} ms`,
        );
      }
      if (exited || !(await healthy())) {
        crashes.push(procedure.path);
        break;
      }
    }

    const last = await nextWorld;
    last.alice.client.close();
    last.bob.client.close();
    const seconds = (performance.now() - started) / 1000;
    const log = readFileSync(server.dir.logFile, 'utf8').split('\n');
    const errorLines = log.filter((line) => /"level":(50|60)/.test(line));
    const unexpected = log.filter(
      (line) => line.includes('INTERNAL_SERVER_ERROR') || line.includes('unexpected error'),
    );

    let total = 0;
    let allPass = true;
    const problems: string[] = [];
    for (const [family, tally] of families) {
      total += tally.requests;
      const pass = tally.failures.length === 0 && tally.minInputs >= TARGET;
      allPass &&= pass;
      problems.push(...tally.failures);
      const accepted =
        tally.validSent === 0 ? 100 : Math.round((100 * tally.validAccepted) / tally.validSent);
      record({
        property: `Fuzz: ${family}.* procedures (${tally.procedures}), generated inputs from their zod schemas plus hostile values, signed in and anonymous`,
        target: `0 5xx, 0 malformed errors, 0 crashes, ≥${TARGET.toLocaleString('en-US')} inputs/procedure`,
        measured: `${tally.failures.length} failing of ${tally.requests.toLocaleString('en-US')} requests (${tally.httpRequests.toLocaleString('en-US')} HTTP, ${tally.wsRequests.toLocaleString('en-US')} WebSocket), ≥${tally.minInputs.toLocaleString('en-US')} inputs/procedure; ${tally.ok.toLocaleString('en-US')} succeeded, ${accepted}% of signed-in valid inputs accepted`,
        pass,
      });
    }
    const crashFree = crashes.length === 0 && errorLines.length === 0 && unexpected.length === 0;
    record({
      property: `Fuzz: the server under ${total.toLocaleString('en-US')} fuzzed requests to ${procedures.length} procedures (seed ${SEED})`,
      target: '0 crashes, 0 errors in the log, healthy after every procedure',
      measured: `${crashes.length} crashes, ${errorLines.length} error lines in the log, ${seconds.toFixed(0)} s (${Math.round(total / seconds)} requests/s)`,
      pass: crashFree && allPass,
    });

    console.info(
      `fuzz: ${procedures.length} procedures × ${RUNS} inputs, ${total} requests in ${seconds.toFixed(1)} s (seed ${SEED})`,
    );
    for (const [family, tally] of families) {
      console.info(`  ${family}: ${JSON.stringify(Object.fromEntries(tally.codes))}`);
    }
    expect(crashes, 'the server died or stopped answering /healthz after these procedures').toEqual(
      [],
    );
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(errorLines.map((l) => l.slice(0, 500))).toEqual([]);
    expect(unexpected.map((l) => l.slice(0, 500))).toEqual([]);
    for (const tally of families.values()) expect(tally.minInputs).toBeGreaterThanOrEqual(TARGET);
  });
});
