import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { SecureChatClient } from '@securechat/client';
import { createDb } from '@securechat/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { collect as collectEvents, createGroup, people, person } from './fixtures.ts';
import { startTestServer, testConfig, waitFor, type TestServer } from './harness.ts';

/** A client's events, with the reminders among them stamped with the time they arrived. */
function collect(client: SecureChatClient) {
  const collected = collectEvents(client);
  return {
    ...collected,
    reminders: () =>
      collected.events.flatMap((e) =>
        e.type === 'calendar.reminder' ? [{ ...e, at: Date.now() }] : [],
      ),
  };
}

const MINUTE = 60_000;
const wholeSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('calendar reminders', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'securechat-reminders-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fires a reminder that fell due during a restart exactly once, after it, to those attending', async () => {
    let nowMs = Date.now();
    const clock = () => new Date(nowMs);
    const logs: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, callback) {
          logs.push(String(chunk));
          callback();
        },
      }),
    );
    const config = testConfig(dataDir);
    let app: App = await startApp(config, logger, { clock });
    const port = app.port;
    const url = `http://127.0.0.1:${port}`;
    const [alice, bob, carol] = await people(url, 'ra', 'rb', 'rc');
    const group = await createGroup(alice, 'Standups', [bob, carol]);
    const startMs = wholeSecond(nowMs + 30 * MINUTE);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Standup',
      allDay: false,
      start: iso(startMs),
      end: iso(startMs + 15 * MINUTE),
      timeZone: 'Europe/Berlin',
      attendees: [bob.id, carol.id],
      reminders: [10],
    });
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await carol.client.calendar.rsvp(event.id, 'declined');
    const streams = [alice, bob, carol].map((p) => collect(p.client));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(streams.flatMap((s) => s.reminders())).toEqual([]);

    // Down from 10 minutes before the reminder until 5 minutes after it was due.
    await app.close();
    nowMs += 25 * MINUTE;
    app = await startApp({ ...config, port }, logger, { clock });
    await waitFor(
      () => streams[0]!.reminders().length > 0 && streams[1]!.reminders().length > 0,
      15_000,
      'the reminder after the restart',
    );
    // Restarting again (and looking again) fires nothing more.
    await app.close();
    nowMs += MINUTE;
    app = await startApp({ ...config, port }, logger, { clock });
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const [aliceReminders, bobReminders, carolReminders] = streams.map((s) => s.reminders());
    for (const reminders of [aliceReminders, bobReminders]) {
      expect(reminders).toEqual([
        expect.objectContaining({
          type: 'calendar.reminder',
          eventId: event.id,
          conversationId: group,
          recurrenceId: null,
          start: iso(startMs),
          allDay: false,
          minutesBefore: 10,
          title: 'Standup',
        }),
      ]);
    }
    // Declined: no reminder.
    expect(carolReminders).toEqual([]);
    await Promise.all(streams.map((s) => s.stop()));
    for (const p of [alice, bob, carol]) p.client.close();
    await app.close();

    // The ledger holds it once; the logged events are content-free.
    const handle = createDb(app.databasePath);
    try {
      expect(
        handle.sqlite.prepare('select count(*) as n from calendar_reminders_fired').get(),
      ).toEqual({ n: 1 });
      const logged = handle.sqlite
        .prepare("select user_id, data from events where kind = 'calendar.reminder'")
        .all() as { user_id: string; data: string }[];
      expect(logged.map((r) => r.user_id).sort()).toEqual([alice.id, bob.id].sort());
      for (const row of logged) expect(row.data).not.toContain('Standup');
    } finally {
      handle.close();
    }
    expect(logs.join('\n')).not.toContain('Standup');
  });
});

describe('calendar reminders on time', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('fires at the moment it is due, for each occurrence of a series', async () => {
    const alice = await person(server.url, 'ot');
    const stream = collect(alice.client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Due in about two seconds: one minute before a start a minute and two seconds away.
    const startMs = wholeSecond(Date.now() + MINUTE + 2000);
    const dueMs = startMs - MINUTE;
    await alice.client.calendar.create({
      title: 'Call the bank',
      allDay: false,
      start: iso(startMs),
      end: iso(startMs + 5 * MINUTE),
      timeZone: 'UTC',
      rrule: 'FREQ=DAILY;COUNT=2',
      reminders: [1],
    });
    await waitFor(() => stream.reminders().length > 0, 10_000, 'the reminder');
    const [reminder] = stream.reminders();
    expect(reminder).toMatchObject({
      title: 'Call the bank',
      recurrenceId: iso(startMs),
      start: iso(startMs),
    });
    expect(reminder!.at).toBeGreaterThanOrEqual(dueMs);
    expect(reminder!.at - dueMs).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Tomorrow's occurrence has not fired.
    expect(stream.reminders()).toHaveLength(1);
    await stream.stop();
    alice.client.close();
  });

  it('follows an answer for the one occurrence over the answer for the series', async () => {
    const [alice, bob, carol] = await people(server.url, 'oa', 'ob', 'oc');
    const group = await createGroup(alice, 'Dailies', [bob, carol]);
    // Due in about ten seconds, time enough to answer first even on a busy machine.
    const startMs = wholeSecond(Date.now() + MINUTE + 10_000);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Daily',
      allDay: false,
      start: iso(startMs),
      end: iso(startMs + 5 * MINUTE),
      timeZone: 'UTC',
      rrule: 'FREQ=DAILY;COUNT=2',
      attendees: [bob.id, carol.id],
      reminders: [1],
    });
    // Bob comes to the series but not to this first one; carol the other way round.
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: iso(startMs) });
    await carol.client.calendar.rsvp(event.id, 'declined');
    await carol.client.calendar.rsvp(event.id, 'accepted', { recurrenceId: iso(startMs) });
    const streams = [alice, bob, carol].map((p) => collect(p.client));
    await waitFor(
      () => streams[0]!.reminders().length > 0 && streams[2]!.reminders().length > 0,
      20_000,
      'the reminder',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(streams.map((s) => s.reminders().map((r) => r.recurrenceId))).toEqual([
      [iso(startMs)],
      [],
      [iso(startMs)],
    ]);
    await Promise.all(streams.map((s) => s.stop()));
    for (const p of [alice, bob, carol]) p.client.close();
  });
});
