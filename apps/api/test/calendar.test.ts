import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  apiErrorCode,
  CalendarForbiddenError,
  CalendarVerificationError,
  fieldErrors,
} from '@securechat/client';
import { createDb } from '@securechat/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anotherDevice,
  code,
  collect,
  createGroup,
  people,
  person,
  type Person,
} from './fixtures.ts';
import { startTestServer, waitFor, type TestServer } from './harness.ts';

/** The wall-clock time of an instant in a zone, as HH:mm. */
function localTime(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(instant));
}

const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

/** What `viewer` is shown of `userId`'s answers to an event: the series', then each occurrence's. */
async function answersOf(viewer: Person, eventId: string, userId: string): Promise<string[]> {
  const seen = (await viewer.client.calendar.get(eventId)).attendees.find(
    (a) => a.userId === userId,
  )!;
  return [seen.status, ...seen.occurrences.map((o) => `${o.recurrenceId} ${o.status}`)];
}

/**
 * Tampers as a server could: copies a user's answers for single occurrences of an event to
 * another occurrence, straight in the database file.
 */
function copyAnswers(
  handle: ReturnType<typeof createDb>,
  eventId: string,
  userId: string,
  recurrenceId: string,
) {
  handle.sqlite
    .prepare(
      `insert into calendar_occurrence_answers
         select event_id, user_id, ?, status, rsvp_ref, rsvp_device, updated_at
         from calendar_occurrence_answers where event_id = ? and user_id = ?`,
    )
    .run(recurrenceId, eventId, userId);
}

/**
 * Tampers as a server could: reads one user's stored answer row of an event from `table`
 * (`calendar_attendees` or `calendar_occurrence_answers`), and puts a row read earlier back in
 * place of whatever is there now, straight in the database file.
 */
function answerRows(handle: ReturnType<typeof createDb>, eventId: string, userId: string) {
  return {
    row: (table: string) =>
      handle.sqlite
        .prepare(`select * from ${table} where event_id = ? and user_id = ?`)
        .get(eventId, userId) as Record<string, unknown>,
    put: (table: string, row: Record<string, unknown>) => {
      handle.sqlite
        .prepare(`delete from ${table} where event_id = ? and user_id = ?`)
        .run(eventId, userId);
      handle.sqlite
        .prepare(
          `insert into ${table} (${Object.keys(row).join(', ')})
             values (${Object.keys(row)
               .map(() => '?')
               .join(', ')})`,
        )
        .run(...Object.values(row));
    },
  };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('calendar: time', () => {
  it('keeps a weekly 09:00 Europe/Berlin event at 09:00 local across the March and October changes', async () => {
    const alice = await person(server.url, 'berlin');
    const { event } = await alice.client.calendar.create({
      title: 'Weekly planning',
      allDay: false,
      start: '2026-03-02T08:00:00Z', // Monday 09:00 CET
      end: '2026-03-02T09:00:00Z',
      timeZone: 'Europe/Berlin',
      rrule: 'FREQ=WEEKLY',
    });
    expect(event).toMatchObject({ title: 'Weekly planning', rrule: 'FREQ=WEEKLY', revision: 1 });

    const { occurrences, rejected } = await alice.client.calendar.list({
      from: day('2026-03-01'),
      to: day('2026-11-15'),
    });
    expect(rejected).toEqual([]);
    const mine = occurrences.filter((o) => o.eventId === event.id);
    // 2 March to 9 November: 37 Mondays.
    expect(mine).toHaveLength(37);
    for (const o of mine) {
      expect(localTime(o.start, 'Europe/Berlin'), o.start).toBe('09:00');
      expect(localTime(o.end, 'Europe/Berlin'), o.end).toBe('10:00');
      expect(new Date(o.start).getUTCDay()).toBe(1);
      expect(o.title).toBe('Weekly planning');
    }
    const starts = mine.map((o) => o.start);
    // Around the change to summer time (29 March) and back (25 October): the UTC time moves.
    expect(starts).toContain('2026-03-23T08:00:00Z');
    expect(starts).toContain('2026-03-30T07:00:00Z');
    expect(starts).toContain('2026-10-19T07:00:00Z');
    expect(starts).toContain('2026-10-26T08:00:00Z');
    expect(mine[0]!.recurrenceId).toBe('2026-03-02T08:00:00Z');
  });

  it('stores an all-day event as dates and returns it on that date for viewers at UTC−10 and UTC+14', async () => {
    const alice = await person(server.url, 'allday');
    const { event } = await alice.client.calendar.create({
      title: 'Team offsite',
      allDay: true,
      start: '2026-05-05',
      end: '2026-05-06',
      timeZone: 'Pacific/Kiritimati',
    });
    expect(event).toMatchObject({ allDay: true, start: '2026-05-05', end: '2026-05-06' });
    // 5 May as a day in Honolulu (UTC−10) and on Kiritimati (UTC+14).
    const honolulu = {
      from: new Date('2026-05-05T10:00:00Z'),
      to: new Date('2026-05-06T10:00:00Z'),
    };
    const kiritimati = {
      from: new Date('2026-05-04T10:00:00Z'),
      to: new Date('2026-05-05T10:00:00Z'),
    };
    for (const range of [honolulu, kiritimati]) {
      const { occurrences } = await alice.client.calendar.list(range);
      expect(occurrences.filter((o) => o.eventId === event.id)).toEqual([
        expect.objectContaining({ allDay: true, start: '2026-05-05', end: '2026-05-06' }),
      ]);
    }
    // Not on the days before and after anywhere.
    const { occurrences: later } = await alice.client.calendar.list({
      from: new Date('2026-05-06T14:00:00Z'),
      to: new Date('2026-05-07T14:00:00Z'),
    });
    expect(later.filter((o) => o.eventId === event.id)).toEqual([]);
    const handle = createDb(server.app.databasePath);
    try {
      const row = handle.sqlite
        .prepare('select all_day, start, end from calendar_events where id = ?')
        .get(event.id);
      expect(row).toEqual({ all_day: 1, start: '2026-05-05', end: '2026-05-06' });
    } finally {
      handle.close();
    }
  });

  it('leaves out an EXDATE and moves one occurrence (RECURRENCE-ID), for the attendee too', async () => {
    const [alice, bob] = await people(server.url, 'exa', 'exb');
    const { id: conversationId } = await alice.client.conversations.openDirect(bob.username);
    const { event } = await alice.client.calendar.create({
      conversationId,
      title: 'Review',
      allDay: false,
      start: '2027-02-01T10:00:00Z',
      end: '2027-02-01T11:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=5',
      attendees: [bob.id],
    });
    await alice.client.calendar.delete(event.id, {
      scope: 'this',
      recurrenceId: '2027-02-08T10:00:00Z',
    });
    await alice.client.calendar.update(
      event.id,
      { title: 'Review (moved)', start: '2027-02-16T14:00:00Z', end: '2027-02-16T15:30:00Z' },
      { scope: 'this', recurrenceId: '2027-02-15T10:00:00Z' },
    );
    const range = { from: day('2027-01-25'), to: day('2027-03-15') };
    for (const viewer of [alice, bob]) {
      const { occurrences, rejected } = await viewer.client.calendar.list(range);
      expect(rejected).toEqual([]);
      expect(
        occurrences
          .filter((o) => o.eventId === event.id)
          .map((o) => [o.recurrenceId, o.start, o.end, o.title, o.overridden]),
      ).toEqual([
        ['2027-02-01T10:00:00Z', '2027-02-01T10:00:00Z', '2027-02-01T11:00:00Z', 'Review', false],
        [
          '2027-02-15T10:00:00Z',
          '2027-02-16T14:00:00Z',
          '2027-02-16T15:30:00Z',
          'Review (moved)',
          true,
        ],
        ['2027-02-22T10:00:00Z', '2027-02-22T10:00:00Z', '2027-02-22T11:00:00Z', 'Review', false],
        ['2027-03-01T10:00:00Z', '2027-03-01T10:00:00Z', '2027-03-01T11:00:00Z', 'Review', false],
      ]);
    }
    const stored = await bob.client.calendar.get(event.id);
    expect(stored.exdates).toEqual(['2027-02-08T10:00:00Z']);
    expect(stored.overrides).toEqual([
      expect.objectContaining({ recurrenceId: '2027-02-15T10:00:00Z', title: 'Review (moved)' }),
    ]);
  });

  it('moves occurrences changed on their own along with the whole series, and drops those left off it', async () => {
    const [alice, bob] = await people(server.url, 'mva', 'mvb');
    const { id: conversationId } = await alice.client.conversations.openDirect(bob.username);
    const { event } = await alice.client.calendar.create({
      conversationId,
      title: 'Standup',
      allDay: false,
      start: '2027-02-01T10:00:00Z',
      end: '2027-02-01T10:30:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=4',
      attendees: [bob.id],
    });
    await alice.client.calendar.delete(event.id, {
      scope: 'this',
      recurrenceId: '2027-02-22T10:00:00Z',
    });
    await alice.client.calendar.update(
      event.id,
      { title: 'Standup (longer)', start: '2027-02-08T10:00:00Z', end: '2027-02-08T11:00:00Z' },
      { scope: 'this', recurrenceId: '2027-02-08T10:00:00Z' },
    );

    const unread = async () =>
      (await bob.client.conversations.list()).find((c) => c.id === conversationId)!.unread;
    const unreadBefore = await unread();

    // The whole series moves an hour later: the changed occurrence and the left-out one with it.
    await alice.client.calendar.update(
      event.id,
      { start: '2027-02-01T11:00:00Z', end: '2027-02-01T11:30:00Z' },
      { scope: 'all' },
    );
    const range = { from: day('2027-01-25'), to: day('2027-03-15') };
    for (const viewer of [alice, bob]) {
      const { occurrences, rejected } = await viewer.client.calendar.list(range);
      expect(rejected).toEqual([]);
      expect(
        occurrences
          .filter((o) => o.eventId === event.id)
          .map((o) => [o.recurrenceId, o.start, o.end, o.title]),
      ).toEqual([
        ['2027-02-01T11:00:00Z', '2027-02-01T11:00:00Z', '2027-02-01T11:30:00Z', 'Standup'],
        [
          '2027-02-08T11:00:00Z',
          '2027-02-08T11:00:00Z',
          '2027-02-08T12:00:00Z',
          'Standup (longer)',
        ],
        ['2027-02-15T11:00:00Z', '2027-02-15T11:00:00Z', '2027-02-15T11:30:00Z', 'Standup'],
      ]);
    }

    // In the chat, the carried occurrence's card names the series revision that moved it (so
    // chats fold it into that card); the card of its own earlier change names none.
    const cards = (await bob.client.messages.list(conversationId)).flatMap((m) =>
      m.calendar ? [m.calendar] : [],
    );
    const move = cards.find((c) => c.recurrenceId === null && c.start === '2027-02-01T11:00:00Z');
    expect(move).toBeDefined();
    expect(
      cards
        .filter((c) => c.recurrenceId !== null)
        .map((c) => [c.recurrenceId, c.movedWith])
        .sort(),
    ).toEqual([
      ['2027-02-08T10:00:00Z', null],
      ['2027-02-08T11:00:00Z', move!.revision],
    ]);
    // The move counts as one unread message: its carried card was sent silent.
    expect(await unread()).toBe(unreadBefore + 1);

    // A new rule on which the changed occurrence no longer falls: its change is dropped, not
    // kept unmatched.
    await alice.client.calendar.update(
      event.id,
      { rrule: 'FREQ=WEEKLY;INTERVAL=2;COUNT=2' },
      { scope: 'all' },
    );
    const stored = await bob.client.calendar.get(event.id);
    expect(stored.overrides).toEqual([]);
    const dto = await bob.client.api.calendar.byId.query({ eventId: event.id });
    expect(dto.overrides).toEqual([]);

    // Moving something that is not an occurrence changed on its own is a field error.
    const revision = await alice.client.api.calendar.byId
      .query({ eventId: event.id })
      .then((e) => e.revision);
    const refused = await alice.client.api.calendar.update
      .mutate({
        eventId: event.id,
        expectedRevision: revision,
        scope: 'all',
        series: {
          allDay: false,
          start: '2027-02-01T11:00:00Z',
          end: '2027-02-01T11:30:00Z',
          timeZone: 'UTC',
          rrule: 'FREQ=WEEKLY;COUNT=4',
          exdates: [],
          attendees: [bob.id],
          reminders: [],
          revision: revision + 1,
          contentRef: randomBytes(16).toString('hex'),
        },
        movedOverrides: [
          {
            from: '2027-02-08T11:00:00Z',
            override: {
              recurrenceId: '2027-02-08T12:00:00Z',
              revision: 2,
              allDay: false,
              start: '2027-02-08T12:00:00Z',
              end: '2027-02-08T13:00:00Z',
              timeZone: 'UTC',
              contentRef: randomBytes(16).toString('hex'),
            },
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(apiErrorCode(refused)).toBe('BAD_REQUEST');
    expect(fieldErrors(refused)).toHaveProperty(['movedOverrides.0.from']);
  });

  it('splits a series at "this and following"', async () => {
    const alice = await person(server.url, 'split');
    const { event } = await alice.client.calendar.create({
      title: 'Daily sync',
      allDay: false,
      start: '2027-04-05T09:00:00Z',
      end: '2027-04-05T09:15:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=DAILY',
      exdates: ['2027-04-09T09:00:00Z'],
    });
    // One occurrence before the split and one after it changed on their own.
    await alice.client.calendar.update(
      event.id,
      { title: 'Daily sync (early)' },
      { scope: 'this', recurrenceId: '2027-04-06T09:00:00Z' },
    );
    await alice.client.calendar.update(
      event.id,
      { title: 'Daily sync (moved)', start: '2027-04-08T15:00:00Z', end: '2027-04-08T15:15:00Z' },
      { scope: 'this', recurrenceId: '2027-04-08T09:00:00Z' },
    );
    const { eventId: next } = await alice.client.calendar.update(
      event.id,
      { title: 'Daily sync (later)', start: '2027-04-07T11:00:00Z', end: '2027-04-07T11:30:00Z' },
      { scope: 'following', recurrenceId: '2027-04-07T09:00:00Z' },
    );
    expect(next).not.toBe(event.id);
    const { occurrences } = await alice.client.calendar.list({
      from: day('2027-04-05'),
      to: day('2027-04-10'),
    });
    // The occurrence changed on its own after the split goes with the new series, two hours
    // later as the series went; the day left out stays out, moved too.
    expect(occurrences.map((o) => [o.start, o.title])).toEqual([
      ['2027-04-05T09:00:00Z', 'Daily sync'],
      ['2027-04-06T09:00:00Z', 'Daily sync (early)'],
      ['2027-04-07T11:00:00Z', 'Daily sync (later)'],
      ['2027-04-08T17:00:00Z', 'Daily sync (moved)'],
    ]);
    const split = await alice.client.calendar.get(next);
    expect(split.exdates).toEqual(['2027-04-09T11:00:00Z']);
    expect(split.overrides.map((o) => [o.recurrenceId, o.revision, o.start, o.title])).toEqual([
      ['2027-04-08T11:00:00Z', 1, '2027-04-08T17:00:00Z', 'Daily sync (moved)'],
    ]);
    expect(
      (await alice.client.calendar.get(event.id)).overrides.map((o) => o.recurrenceId),
    ).toEqual(['2027-04-06T09:00:00Z']);
    expect((await alice.client.calendar.get(event.id)).rrule).toBe(
      'FREQ=DAILY;UNTIL=20270407T085959Z',
    );

    // A counted series keeps its count across the split: 5 occurrences before, 5 after.
    const { event: counted } = await alice.client.calendar.create({
      title: 'Course',
      allDay: true,
      start: '2027-05-03',
      end: '2027-05-04',
      timeZone: 'Europe/Berlin',
      rrule: 'FREQ=DAILY;COUNT=5',
      exdates: ['2027-05-04'],
    });
    const { eventId: rest } = await alice.client.calendar.update(
      counted.id,
      { title: 'Course (room B)' },
      { scope: 'following', recurrenceId: '2027-05-06' },
    );
    expect((await alice.client.calendar.get(rest)).rrule).toBe('FREQ=DAILY;COUNT=2');
    const { occurrences: course } = await alice.client.calendar.list({
      from: day('2027-05-01'),
      to: day('2027-05-15'),
    });
    expect(
      course.filter((o) => [counted.id, rest].includes(o.eventId)).map((o) => [o.start, o.title]),
    ).toEqual([
      ['2027-05-03', 'Course'],
      ['2027-05-05', 'Course'],
      ['2027-05-06', 'Course (room B)'],
      ['2027-05-07', 'Course (room B)'],
    ]);
  });

  it('keeps what the occurrence split at said of its own', async () => {
    const alice = await person(server.url, 'split-at');
    const { event } = await alice.client.calendar.create({
      title: 'Daily sync',
      allDay: false,
      start: '2027-06-07T09:00:00Z',
      end: '2027-06-07T09:15:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=DAILY;COUNT=6',
    });
    await alice.client.calendar.update(
      event.id,
      { title: 'Daily sync (demo)', location: 'Room 4' },
      { scope: 'this', recurrenceId: '2027-06-08T09:00:00Z' },
    );
    await alice.client.calendar.update(
      event.id,
      { title: 'Daily sync (retro)' },
      { scope: 'this', recurrenceId: '2027-06-10T09:00:00Z' },
    );
    // Moved an hour later from the demo on: the form sends only what was changed.
    const { eventId: later } = await alice.client.calendar.update(
      event.id,
      { start: '2027-06-08T10:00:00Z', end: '2027-06-08T10:15:00Z' },
      { scope: 'following', recurrenceId: '2027-06-08T09:00:00Z' },
    );
    const list = async () =>
      (await alice.client.calendar.list({ from: day('2027-06-07'), to: day('2027-06-13') }))
        .occurrences;
    expect((await list()).map((o) => [o.start, o.title, o.location])).toEqual([
      ['2027-06-07T09:00:00Z', 'Daily sync', ''],
      ['2027-06-08T10:00:00Z', 'Daily sync (demo)', 'Room 4'],
      ['2027-06-09T10:00:00Z', 'Daily sync', ''],
      ['2027-06-10T10:00:00Z', 'Daily sync (retro)', ''],
      ['2027-06-11T10:00:00Z', 'Daily sync', ''],
      ['2027-06-12T10:00:00Z', 'Daily sync', ''],
    ]);
    const split = await alice.client.calendar.get(later);
    expect(split.title).toBe('Daily sync');
    expect(split.overrides.map((o) => [o.recurrenceId, o.revision, o.title])).toEqual([
      ['2027-06-08T10:00:00Z', 1, 'Daily sync (demo)'],
      ['2027-06-10T10:00:00Z', 1, 'Daily sync (retro)'],
    ]);

    // Split again at the retro, renaming from there on: the edit is what it says now.
    const { eventId: renamed } = await alice.client.calendar.update(
      later,
      { title: 'Stand-up' },
      { scope: 'following', recurrenceId: '2027-06-10T10:00:00Z' },
    );
    expect((await list()).slice(3).map((o) => [o.start, o.title])).toEqual([
      ['2027-06-10T10:00:00Z', 'Stand-up'],
      ['2027-06-11T10:00:00Z', 'Stand-up'],
      ['2027-06-12T10:00:00Z', 'Stand-up'],
    ]);
    expect((await alice.client.calendar.get(renamed)).overrides).toEqual([]);
  });

  it('answers malformed input with BAD_REQUEST and the field, never a server error', async () => {
    const alice = await person(server.url, 'raw');
    const { id: notes } = await alice.client.conversations.openNotes();
    const { id: contentRef } = await alice.client.messages.send(notes, { text: 'placeholder' });
    const series = {
      allDay: false,
      start: '2027-01-01T10:00:00Z',
      end: '2027-01-01T11:00:00Z',
      timeZone: 'UTC',
      rrule: null as string | null,
      revision: 1,
      contentRef,
    };
    const attempt = async (patch: Partial<typeof series>, field: string) => {
      let failure: unknown = null;
      try {
        await alice.client.api.calendar.create.mutate({
          eventId: randomBytes(16).toString('hex'),
          conversationId: notes,
          series: { ...series, ...patch },
        });
      } catch (error) {
        failure = error;
      }
      expect(apiErrorCode(failure), JSON.stringify(patch)).toBe('BAD_REQUEST');
      expect(Object.keys(fieldErrors(failure)), JSON.stringify(patch)).toContain(field);
    };
    await attempt({ start: '2027-02-29T10:00:00Z', end: '2027-03-01T10:00:00Z' }, 'start');
    await attempt({ start: '2027-01-01T10:00:00.000Z' }, 'start');
    await attempt({ allDay: true }, 'start');
    await attempt({ end: '2027-01-01T09:00:00Z' }, 'end');
    await attempt({ end: '2029-01-01T09:00:00Z' }, 'end');
    await attempt({ timeZone: 'Europe/Atlantis' }, 'timeZone');
    await attempt({ rrule: 'FREQ=DAILY;COUNT=2;UNTIL=20270105T000000Z' }, 'rrule');
    await attempt({ rrule: 'FREQ=DAILY\nDTSTART:20270101' }, 'rrule');
    await attempt({ rrule: 'FREQ=WEEKLY;BYDAY=XX' }, 'rrule');
    await attempt({ rrule: 'FREQ=MINUTELY' }, 'rrule');
    await attempt({ revision: 2 }, 'revision');
    await attempt({ contentRef: randomBytes(16).toString('hex') }, 'contentRef');
    const { event } = await alice.client.calendar.create({
      title: 'Weekly',
      allDay: false,
      start: '2027-01-04T10:00:00Z',
      end: '2027-01-04T11:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY',
    });
    // An occurrence the series does not have.
    let failure: unknown = null;
    await alice.client.calendar
      .update(event.id, { title: 'x' }, { scope: 'this', recurrenceId: '2027-01-05T10:00:00Z' })
      .catch((error: unknown) => (failure = error));
    expect(apiErrorCode(failure)).toBe('BAD_REQUEST');
    expect(fieldErrors(failure)).toHaveProperty('recurrenceId');
    // A split that takes along an occurrence never changed on its own.
    const { id: splitRef } = await alice.client.messages.send(notes, { text: 'placeholder' });
    const weekly = { ...series, start: event.start, end: event.end, rrule: 'FREQ=WEEKLY' };
    // From the third occurrence on, taking the fourth along (changed on its own or not).
    const split = (expectedRevision: number, zone: Partial<typeof series> = {}) =>
      alice.client.api.calendar.update.mutate({
        eventId: event.id,
        expectedRevision,
        scope: 'following',
        recurrenceId: '2027-01-18T10:00:00Z',
        series: {
          ...weekly,
          rrule: 'FREQ=WEEKLY;UNTIL=20270118T095959Z',
          revision: expectedRevision + 1,
        },
        split: {
          eventId: randomBytes(16).toString('hex'),
          series: {
            ...weekly,
            ...zone,
            start: '2027-01-18T10:00:00Z',
            end: '2027-01-18T11:00:00Z',
          },
          overrides: [
            {
              from: '2027-01-25T10:00:00Z',
              override: {
                recurrenceId: '2027-01-25T10:00:00Z',
                revision: 1,
                allDay: false,
                start: '2027-01-25T12:00:00Z',
                end: '2027-01-25T13:00:00Z',
                timeZone: 'UTC',
                contentRef: splitRef,
              },
            },
          ],
        },
      });
    const bogus = await split(1).catch((error: unknown) => error);
    expect(apiErrorCode(bogus)).toBe('BAD_REQUEST');
    expect(fieldErrors(bogus)).toHaveProperty(['split.overrides.0.from']);
    // With an occurrence changed on its own, a new revision in a zone that does not exist.
    await alice.client.calendar.update(
      event.id,
      { title: 'One' },
      { scope: 'this', recurrenceId: '2027-01-25T10:00:00Z' },
    );
    const current = await alice.client.calendar.get(event.id);
    const nowhere = { timeZone: 'Europe/Atlantis' };
    for (const attempt of [
      alice.client.api.calendar.update.mutate({
        eventId: event.id,
        expectedRevision: current.revision,
        scope: 'all',
        series: { ...weekly, ...nowhere, revision: current.revision + 1 },
      }),
      split(current.revision, nowhere),
    ]) {
      const failure = await attempt.catch((error: unknown) => error);
      expect(apiErrorCode(failure)).toBe('BAD_REQUEST');
      expect(fieldErrors(failure)).toHaveProperty('timeZone');
    }
    // A stale revision is a precondition failure.
    await alice.client.calendar.update(event.id, { title: 'Weekly 2' });
    const stale = await code(
      alice.client.api.calendar.delete.mutate({
        eventId: event.id,
        expectedRevision: 1,
        scope: 'all',
      }),
    );
    expect(stale).toBe('PRECONDITION_FAILED');
    expect(server.logs.join('\n')).not.toContain('unexpected error');
  });

  it('refuses bad times with field errors, before anything is sent', async () => {
    const alice = await person(server.url, 'bad');
    const base = {
      title: 'x',
      allDay: false,
      start: '2027-01-01T10:00:00Z',
      end: '2027-01-01T11:00:00Z',
      timeZone: 'UTC',
    };
    const error = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e,
      );
    expect(
      fieldErrors(await error(alice.client.calendar.create({ ...base, end: base.start }))),
    ).toHaveProperty('end');
    expect(
      fieldErrors(await error(alice.client.calendar.create({ ...base, timeZone: 'Mars/Olympus' }))),
    ).toHaveProperty('timeZone');
    expect(
      fieldErrors(await error(alice.client.calendar.create({ ...base, allDay: true }))),
    ).toHaveProperty('start');
    // The server checks too (and the rule, which only it expands).
    const ruled = await error(alice.client.calendar.create({ ...base, rrule: 'FREQ=SECONDLY' }));
    expect(apiErrorCode(ruled)).toBe('BAD_REQUEST');
    expect(fieldErrors(ruled)).toHaveProperty('rrule');
    const { id: notes } = await alice.client.conversations.openNotes();
    // A refused event's card was taken back: the notes hold no readable calendar card.
    const cards = (await alice.client.messages.list(notes)).filter((m) => m.calendar && !m.deleted);
    expect(cards).toEqual([]);
    const range = await error(
      alice.client.calendar.list({ from: day('2027-01-01'), to: day('2028-06-01') }),
    );
    expect(apiErrorCode(range)).toBe('BAD_REQUEST');
  });
});

describe('calendar: people', () => {
  it('RSVP and free/busy across three users, with conflicts and no content', async () => {
    const [alice, bob, carol, dave] = await people(server.url, 'rsa', 'rsb', 'rsc', 'rsd');
    const group = await createGroup(alice, 'Planning', [bob, carol]);
    const title1 = `Kickoff ${randomBytes(4).toString('hex')}`;
    const { event: kickoff } = await alice.client.calendar.create({
      conversationId: group,
      title: title1,
      location: 'Room 1',
      allDay: false,
      start: '2027-06-10T10:00:00Z',
      end: '2027-06-10T11:00:00Z',
      timeZone: 'Europe/Berlin',
      attendees: [bob.id, carol.id],
    });
    const { event: lunch } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Lunch',
      allDay: false,
      start: '2027-06-10T12:00:00Z',
      end: '2027-06-10T13:00:00Z',
      timeZone: 'Europe/Berlin',
      attendees: [carol.id],
    });
    // Bob has his own event that the kickoff overlaps.
    await bob.client.calendar.create({
      title: 'Dentist',
      allDay: false,
      start: '2027-06-10T10:30:00Z',
      end: '2027-06-10T11:30:00Z',
      timeZone: 'Europe/Berlin',
    });
    const accepted = await bob.client.calendar.rsvp(kickoff.id, 'accepted', {
      comment: 'see you there',
    });
    expect(accepted.conflicts).toEqual([
      expect.objectContaining({ start: '2027-06-10T10:30:00Z', title: 'Dentist' }),
    ]);
    expect((await carol.client.calendar.rsvp(kickoff.id, 'declined')).conflicts).toEqual([]);
    await carol.client.calendar.rsvp(lunch.id, 'tentative');

    const seen = await alice.client.calendar.get(kickoff.id);
    expect(seen.attendees.map((a) => [a.username, a.status, a.comment]).sort()).toEqual(
      [
        [bob.username, 'accepted', 'see you there'],
        [carol.username, 'declined', null],
      ].sort(),
    );
    const { occurrences } = await carol.client.calendar.list({
      from: day('2027-06-10'),
      to: day('2027-06-11'),
    });
    expect(occurrences.map((o) => [o.title, o.myStatus])).toEqual([
      [title1, 'declined'],
      ['Lunch', 'tentative'],
    ]);

    const range = { from: day('2027-06-10'), to: day('2027-06-11') };
    const busy = await alice.client.calendar.freeBusy([alice.id, bob.id, carol.id], range);
    const iso = (list: { start: Date; end: Date }[]) =>
      list.map((b) => [b.start.toISOString(), b.end.toISOString()]);
    expect(busy.map((b) => [b.userId, iso(b.busy)])).toEqual([
      [
        alice.id,
        [
          ['2027-06-10T10:00:00.000Z', '2027-06-10T11:00:00.000Z'],
          ['2027-06-10T12:00:00.000Z', '2027-06-10T13:00:00.000Z'],
        ],
      ],
      // Bob's own event and the accepted kickoff, merged.
      [bob.id, [['2027-06-10T10:00:00.000Z', '2027-06-10T11:30:00.000Z']]],
      // Declined and tentative are not busy.
      [carol.id, []],
    ]);
    const raw = JSON.stringify(
      await alice.client.api.calendar.freeBusy.query({ userIds: [bob.id], ...range }),
    );
    expect(raw).not.toContain(kickoff.id);
    expect(raw).not.toContain('Dentist');
    // Someone who shares no conversation with alice cannot see her time.
    expect(await code(dave.client.calendar.freeBusy([alice.id], range))).toBe('FORBIDDEN');
    // Moving the kickoff, alice sees bob busy only with his own event, not with the kickoff.
    const moving = await alice.client.calendar.freeBusy([bob.id], range, {
      excludeEventId: kickoff.id,
    });
    expect(moving.map((b) => iso(b.busy))).toEqual([
      [['2027-06-10T10:30:00.000Z', '2027-06-10T11:30:00.000Z']],
    ]);
    // Leaving out an event one cannot see would reveal its times by difference: refused.
    const { event: secret } = await bob.client.calendar.create({
      title: 'Private',
      allDay: false,
      start: '2027-06-10T15:00:00Z',
      end: '2027-06-10T16:00:00Z',
      timeZone: 'UTC',
    });
    expect(
      await code(alice.client.calendar.freeBusy([bob.id], range, { excludeEventId: secret.id })),
    ).toBe('NOT_FOUND');

    // Creating an overlapping event warns about it, with the title this device can read.
    const { conflicts } = await alice.client.calendar.create({
      title: 'Overlap',
      allDay: false,
      start: '2027-06-10T10:45:00Z',
      end: '2027-06-10T12:15:00Z',
      timeZone: 'Europe/Berlin',
    });
    expect(conflicts.map((c) => c.title).sort()).toEqual(['Lunch', title1].sort());
  });

  it('answers one occurrence of a series on its own, for the calendar and free/busy', async () => {
    const [alice, bob, carol] = await people(server.url, 'oca', 'ocb', 'occ');
    const group = await createGroup(alice, 'Weekly', [bob, carol]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Weekly sync',
      allDay: false,
      start: '2027-05-03T09:00:00Z',
      end: '2027-05-03T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=3',
      attendees: [bob.id, carol.id],
      reminders: [10],
    });
    const second = '2027-05-10T09:00:00Z';
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await bob.client.calendar.rsvp(event.id, 'declined', {
      recurrenceId: second,
      comment: 'on leave that week',
    });
    // Carol declines the series but comes to the second one; accepting it warns of overlaps.
    await carol.client.calendar.create({
      title: 'Dentist',
      allDay: false,
      start: '2027-05-10T09:30:00Z',
      end: '2027-05-10T10:30:00Z',
      timeZone: 'UTC',
    });
    await carol.client.calendar.rsvp(event.id, 'declined');
    const { conflicts } = await carol.client.calendar.rsvp(event.id, 'accepted', {
      recurrenceId: second,
    });
    expect(conflicts.map((c) => [c.start, c.title])).toEqual([['2027-05-10T09:30:00Z', 'Dentist']]);

    const range = { from: day('2027-05-01'), to: day('2027-05-31') };
    const statuses = async (viewer: typeof alice) =>
      (await viewer.client.calendar.list(range)).occurrences
        .filter((o) => o.eventId === event.id)
        .map((o) => [
          o.recurrenceId,
          o.myStatus,
          ...o.attendees.map((a) => `${a.username === bob.username ? 'bob' : 'carol'} ${a.status}`),
        ]);
    const answered = [
      ['2027-05-03T09:00:00Z', 'accepted', 'bob accepted', 'carol declined'],
      [second, 'declined', 'bob declined', 'carol accepted'],
      ['2027-05-17T09:00:00Z', 'accepted', 'bob accepted', 'carol declined'],
    ];
    expect(await statuses(bob)).toEqual(answered);
    const forAlice = await statuses(alice);
    expect(forAlice.map((o) => o.slice(2))).toEqual(answered.map((o) => o.slice(2)));
    const seen = await alice.client.calendar.get(event.id);
    expect(seen.attendees.find((a) => a.userId === bob.id)?.occurrences).toEqual([
      {
        recurrenceId: second,
        answeredFor: second,
        status: 'declined',
        comment: 'on leave that week',
      },
    ]);

    // Free/busy follows the answer for each occurrence.
    const busy = await alice.client.calendar.freeBusy([bob.id, carol.id], range);
    expect(busy.map((b) => b.busy.map((i) => i.start.toISOString()))).toEqual([
      ['2027-05-03T09:00:00.000Z', '2027-05-17T09:00:00.000Z'],
      ['2027-05-10T09:00:00.000Z'],
    ]);

    // A server that passes bob's answer for one occurrence off as his answer for the series, or
    // for another occurrence, is not believed.
    const handle = createDb(server.app.databasePath);
    try {
      const series = handle.sqlite
        .prepare(
          'select status, rsvp_ref from calendar_attendees where event_id = ? and user_id = ?',
        )
        .get(event.id, bob.id) as { status: string; rsvp_ref: string };
      const occurrence = handle.sqlite
        .prepare(
          'select rsvp_ref from calendar_occurrence_answers where event_id = ? and user_id = ?',
        )
        .get(event.id, bob.id) as { rsvp_ref: string };
      const setSeries = (status: string, ref: string) =>
        handle.sqlite
          .prepare(
            'update calendar_attendees set status = ?, rsvp_ref = ? where event_id = ? and user_id = ?',
          )
          .run(status, ref, event.id, bob.id);
      setSeries('declined', occurrence.rsvp_ref);
      const asSeries = await alice.client.calendar.get(event.id);
      expect(asSeries.attendees.find((a) => a.userId === bob.id)?.status).toBe('needs-action');
      setSeries(series.status, series.rsvp_ref);
      const moveAnswer = (to: string) =>
        handle.sqlite
          .prepare(
            'update calendar_occurrence_answers set recurrence_id = ? where event_id = ? and user_id = ?',
          )
          .run(to, event.id, bob.id);
      moveAnswer('2027-05-17T09:00:00Z');
      const moved = await alice.client.calendar.get(event.id);
      expect(moved.attendees.find((a) => a.userId === bob.id)?.occurrences).toEqual([]);
      moveAnswer(second);
    } finally {
      handle.close();
    }
    expect(await statuses(bob)).toEqual(answered);

    // Bad occurrences are field errors, and only attendees answer.
    const answerRef = async (who: typeof alice) =>
      (await who.client.messages.send(group, { text: 'not an answer' })).id;
    const refused = await bob.client.api.calendar.rsvp
      .mutate({
        eventId: event.id,
        status: 'accepted',
        rsvpRef: await answerRef(bob),
        recurrenceId: '2027-05-11T09:00:00Z',
      })
      .catch((error: unknown) => error);
    expect(apiErrorCode(refused)).toBe('BAD_REQUEST');
    expect(fieldErrors(refused)).toHaveProperty(['recurrenceId']);
    const { event: single } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Once',
      allDay: false,
      start: '2027-05-04T09:00:00Z',
      end: '2027-05-04T10:00:00Z',
      timeZone: 'UTC',
      attendees: [bob.id],
    });
    expect(
      fieldErrors(
        await bob.client.api.calendar.rsvp
          .mutate({
            eventId: single.id,
            status: 'accepted',
            rsvpRef: await answerRef(bob),
            recurrenceId: '2027-05-04T09:00:00Z',
          })
          .catch((error: unknown) => error),
      ),
    ).toHaveProperty(['recurrenceId']);
    expect(
      await code(
        alice.client.api.calendar.rsvp.mutate({
          eventId: event.id,
          status: 'accepted',
          rsvpRef: await answerRef(alice),
          recurrenceId: second,
        }),
      ),
    ).toBe('FORBIDDEN');

    // An answer for the series replaces the answers for single occurrences.
    await bob.client.calendar.rsvp(event.id, 'tentative');
    expect((await statuses(bob)).map((o) => o[1])).toEqual(['tentative', 'tentative', 'tentative']);
  });

  it('carries answers for single occurrences along when the whole series moves', async () => {
    const [alice, bob, carol] = await people(server.url, 'cra', 'crb', 'crc');
    const group = await createGroup(alice, 'Planning', [bob, carol]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Planning',
      allDay: false,
      start: '2027-06-07T09:00:00Z',
      end: '2027-06-07T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=3',
      attendees: [bob.id, carol.id],
    });
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: '2027-06-14T09:00:00Z' });
    const range = { from: day('2027-06-01'), to: day('2027-07-01') };
    const answers = async (viewer: typeof alice) =>
      (await viewer.client.calendar.list(range)).occurrences
        .filter((o) => o.eventId === event.id)
        .map((o) => [
          o.recurrenceId,
          ...[bob, carol].map((p) => o.attendees.find((a) => a.userId === p.id)?.status),
        ]);
    const move = (start: string, end: string) =>
      alice.client.calendar.update(event.id, { start, end }, { scope: 'all' });

    // An hour later: bob's answer goes with the occurrence he gave it for, for everyone.
    await move('2027-06-07T10:00:00Z', '2027-06-07T11:00:00Z');
    const later = [
      ['2027-06-07T10:00:00Z', 'accepted', 'needs-action'],
      ['2027-06-14T10:00:00Z', 'declined', 'needs-action'],
      ['2027-06-21T10:00:00Z', 'accepted', 'needs-action'],
    ];
    for (const viewer of [alice, bob, carol]) expect(await answers(viewer)).toEqual(later);
    const seen = await carol.client.calendar.get(event.id);
    expect(seen.attendees.find((a) => a.userId === bob.id)?.occurrences).toEqual([
      {
        recurrenceId: '2027-06-14T10:00:00Z',
        answeredFor: '2027-06-14T09:00:00Z',
        status: 'declined',
        comment: null,
      },
    ]);
    const [bobBusy] = await alice.client.calendar.freeBusy([bob.id], range);
    expect(bobBusy!.busy.map((i) => i.start.toISOString())).toEqual([
      '2027-06-07T10:00:00.000Z',
      '2027-06-21T10:00:00.000Z',
    ]);

    // A change that moves nothing keeps it there.
    await alice.client.calendar.update(event.id, { title: 'Planning (room 2)' }, { scope: 'all' });
    expect(await answers(carol)).toEqual(later);

    // A day later, carol declines the second occurrence there; back a day, the two answers, given
    // for different times, both count for the occurrence they went with.
    await move('2027-06-08T10:00:00Z', '2027-06-08T11:00:00Z');
    await carol.client.calendar.rsvp(event.id, 'declined', {
      recurrenceId: '2027-06-15T10:00:00Z',
    });
    await move('2027-06-07T10:00:00Z', '2027-06-07T11:00:00Z');
    const both = [
      ['2027-06-07T10:00:00Z', 'accepted', 'needs-action'],
      ['2027-06-14T10:00:00Z', 'declined', 'declined'],
      ['2027-06-21T10:00:00Z', 'accepted', 'needs-action'],
    ];
    for (const viewer of [alice, bob, carol]) expect(await answers(viewer)).toEqual(both);

    // The server cannot put an answer anywhere the organizer did not sign it went.
    const handle = createDb(server.app.databasePath);
    const stored = () =>
      handle.sqlite
        .prepare('select count(*) as n from calendar_occurrence_answers where event_id = ?')
        .get(event.id) as { n: number };
    try {
      copyAnswers(handle, event.id, bob.id, '2027-06-21T10:00:00Z');
      expect(await answers(alice)).toEqual(both);

      // A move that leaves the answered occurrences off the series drops their answers.
      await alice.client.calendar.update(
        event.id,
        {
          start: '2027-06-07T11:00:00Z',
          end: '2027-06-07T12:00:00Z',
          rrule: 'FREQ=WEEKLY;COUNT=1',
        },
        { scope: 'all' },
      );
      expect(stored().n).toBe(0);
    } finally {
      handle.close();
    }
    expect((await alice.client.calendar.get(event.id)).attendees.map((a) => a.occurrences)).toEqual(
      [[], []],
    );
  });

  it('believes an answer given before a move only where the move took it', async () => {
    const [alice, bob] = await people(server.url, 'ama', 'amb');
    const group = await createGroup(alice, 'Weekly', [bob]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Weekly',
      allDay: false,
      start: '2027-07-05T09:00:00Z',
      end: '2027-07-05T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=3',
      attendees: [bob.id],
    });
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: '2027-07-12T09:00:00Z' });
    const range = { from: day('2027-07-01'), to: day('2027-08-01') };
    const answers = async () =>
      (await alice.client.calendar.list(range)).occurrences.map((o) => [
        o.start,
        o.attendees[0]?.status,
      ]);
    const move = (start: string, end: string) =>
      alice.client.calendar.update(event.id, { start, end }, { scope: 'all' });

    // A week later: the second occurrence is the third's time now, and the first the second's.
    await move('2027-07-12T09:00:00Z', '2027-07-12T10:00:00Z');
    const later = [
      ['2027-07-12T09:00:00Z', 'accepted'],
      ['2027-07-19T09:00:00Z', 'declined'],
      ['2027-07-26T09:00:00Z', 'accepted'],
    ];
    expect(await answers()).toEqual(later);
    // A copy of the answer left at its old time, now another occurrence's, is not believed.
    const handle = createDb(server.app.databasePath);
    try {
      copyAnswers(handle, event.id, bob.id, '2027-07-12T09:00:00Z');
      expect(await answers()).toEqual(later);
      handle.sqlite
        .prepare(
          `delete from calendar_occurrence_answers
           where event_id = ? and recurrence_id = '2027-07-12T09:00:00Z'`,
        )
        .run(event.id);
    } finally {
      handle.close();
    }

    // Answered after the move, the new first occurrence counts where it was given; a week back,
    // each answer goes with its occurrence, the older one to the time it was first given for.
    await bob.client.calendar.rsvp(event.id, 'tentative', {
      recurrenceId: '2027-07-12T09:00:00Z',
    });
    await alice.client.calendar.update(event.id, { title: 'Weekly (room 4)' }, { scope: 'all' });
    expect(await answers()).toEqual([
      ['2027-07-12T09:00:00Z', 'tentative'],
      ['2027-07-19T09:00:00Z', 'declined'],
      ['2027-07-26T09:00:00Z', 'accepted'],
    ]);
    await move('2027-07-05T09:00:00Z', '2027-07-05T10:00:00Z');
    expect(await answers()).toEqual([
      ['2027-07-05T09:00:00Z', 'tentative'],
      ['2027-07-12T09:00:00Z', 'declined'],
      ['2027-07-19T09:00:00Z', 'accepted'],
    ]);
  });

  it('carries the answers to the series split off at "this and following"', async () => {
    const [alice, bob, carol, dave] = await people(server.url, 'csa', 'csb', 'csc', 'csd');
    const group = await createGroup(alice, 'Review', [bob, carol, dave]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Review',
      allDay: false,
      start: '2027-09-06T09:00:00Z',
      end: '2027-09-06T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=4',
      attendees: [bob.id, carol.id, dave.id],
    });
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: '2027-09-06T09:00:00Z' });
    await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: '2027-09-20T09:00:00Z' });
    await carol.client.calendar.rsvp(event.id, 'declined');
    await carol.client.calendar.rsvp(event.id, 'accepted', {
      recurrenceId: '2027-09-27T09:00:00Z',
    });
    await dave.client.calendar.rsvp(event.id, 'accepted');

    // From the third on: an hour later, without dave.
    const { eventId: rest } = await alice.client.calendar.update(
      event.id,
      { start: '2027-09-20T10:00:00Z', end: '2027-09-20T11:00:00Z', attendees: [bob.id, carol.id] },
      { scope: 'following', recurrenceId: '2027-09-20T09:00:00Z' },
    );
    const range = { from: day('2027-09-01'), to: day('2027-10-01') };
    const answers = async (viewer: typeof alice) =>
      (await viewer.client.calendar.list(range)).occurrences.map((o) => [
        o.eventId === event.id ? 'first' : o.eventId === rest ? 'rest' : o.eventId,
        o.start,
        ...o.attendees.map((a) => `${a.username.slice(0, 3)} ${a.status}`),
      ]);
    const [b, c, d] = [bob, carol, dave].map((p) => p.username.slice(0, 3));
    const split = [
      ['first', '2027-09-06T09:00:00Z', `${b} declined`, `${c} declined`, `${d} accepted`],
      ['first', '2027-09-13T09:00:00Z', `${b} accepted`, `${c} declined`, `${d} accepted`],
      ['rest', '2027-09-20T10:00:00Z', `${b} declined`, `${c} declined`],
      ['rest', '2027-09-27T10:00:00Z', `${b} accepted`, `${c} accepted`],
    ];
    for (const viewer of [alice, bob, carol]) expect(await answers(viewer)).toEqual(split);
    const [bobBusy] = await alice.client.calendar.freeBusy([bob.id], range);
    expect(bobBusy!.busy.map((i) => i.start.toISOString())).toEqual([
      '2027-09-13T09:00:00.000Z',
      '2027-09-27T10:00:00.000Z',
    ]);

    // A later move of the new series takes the carried answers along, signed again.
    await alice.client.calendar.update(
      rest,
      { start: '2027-09-20T11:00:00Z', end: '2027-09-20T12:00:00Z' },
      { scope: 'all' },
    );
    const moved = [
      ...split.slice(0, 2),
      ['rest', '2027-09-20T11:00:00Z', `${b} declined`, `${c} declined`],
      ['rest', '2027-09-27T11:00:00Z', `${b} accepted`, `${c} accepted`],
    ];
    for (const viewer of [alice, carol]) expect(await answers(viewer)).toEqual(moved);

    // A split whose new series starts on a day that does not exist is a field error.
    const { id: placeholder } = await alice.client.messages.send(group, { text: 'placeholder' });
    const restNow = await alice.client.calendar.get(rest);
    const series = {
      allDay: false,
      start: '2027-09-20T11:00:00Z',
      end: '2027-09-20T12:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;UNTIL=20270926T235959Z',
      exdates: [],
      attendees: [bob.id, carol.id],
      reminders: [],
      contentRef: placeholder,
    };
    const badSplit = await alice.client.api.calendar.update
      .mutate({
        eventId: rest,
        expectedRevision: restNow.revision,
        scope: 'following',
        recurrenceId: '2027-09-27T11:00:00Z',
        series: {
          ...series,
          rrule: 'FREQ=WEEKLY;UNTIL=20270927T105959Z',
          revision: restNow.revision + 1,
        },
        split: {
          eventId: randomBytes(16).toString('hex'),
          series: {
            ...series,
            start: '2027-13-27T11:00:00Z',
            end: '2027-13-27T12:00:00Z',
            revision: 1,
          },
        },
      })
      .catch((error: unknown) => error);
    expect(apiErrorCode(badSplit)).toBe('BAD_REQUEST');
    expect(fieldErrors(badSplit)).toHaveProperty('start');

    // An answer bob gives the first series later is his for that one only: the server cannot show
    // it for the new series, nor show an answer where the organizer did not sign it went.
    await bob.client.calendar.rsvp(event.id, 'tentative');
    const handle = createDb(server.app.databasePath);
    try {
      handle.sqlite
        .prepare(
          `update calendar_attendees set (status, rsvp_ref, rsvp_device) =
             (select status, rsvp_ref, rsvp_device from calendar_attendees
               where event_id = ? and user_id = ?)
           where event_id = ? and user_id = ?`,
        )
        .run(event.id, bob.id, rest, bob.id);
      handle.sqlite
        .prepare(
          `update calendar_occurrence_answers set recurrence_id = '2027-09-27T11:00:00Z'
           where event_id = ? and user_id = ?`,
        )
        .run(rest, bob.id);
      const shown = (await alice.client.calendar.get(rest)).attendees.find(
        (a) => a.userId === bob.id,
      );
      expect([shown?.status, shown?.occurrences]).toEqual(['needs-action', []]);
    } finally {
      handle.close();
    }
  });

  it('lets no outsider read or change an event, and no attendee change it', async () => {
    const [alice, bob, carol, mallory] = await people(server.url, 'aca', 'acb', 'acc', 'acm');
    const group = await createGroup(alice, 'Private', [bob, carol]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Board meeting',
      allDay: false,
      start: '2027-07-01T10:00:00Z',
      end: '2027-07-01T11:00:00Z',
      timeZone: 'UTC',
      attendees: [bob.id],
    });
    const range = { from: day('2027-07-01'), to: day('2027-07-02') };
    const api = mallory.client.api.calendar;
    expect(await code(api.byId.query({ eventId: event.id }))).toBe('NOT_FOUND');
    expect(await code(api.listOccurrences.query({ ...range, conversationId: group }))).toBe(
      'NOT_FOUND',
    );
    expect((await mallory.client.calendar.list(range)).occurrences).toEqual([]);
    const stolen = {
      ...event,
      revision: 2,
      exdates: [],
      attendees: [],
      reminders: [],
      contentRef: randomBytes(16).toString('hex'),
    };
    expect(
      await code(
        api.update.mutate({
          eventId: event.id,
          expectedRevision: 1,
          scope: 'all',
          series: {
            allDay: false,
            start: stolen.start,
            end: stolen.end,
            timeZone: 'UTC',
            rrule: null,
            revision: 2,
            contentRef: stolen.contentRef,
          },
        }),
      ),
    ).toBe('NOT_FOUND');
    expect(
      await code(api.delete.mutate({ eventId: event.id, expectedRevision: 1, scope: 'all' })),
    ).toBe('NOT_FOUND');
    expect(
      await code(
        api.rsvp.mutate({ eventId: event.id, status: 'accepted', rsvpRef: stolen.contentRef }),
      ),
    ).toBe('NOT_FOUND');
    // The attendee may answer but not change or delete it; a member who is not invited cannot answer.
    await expect(
      bob.client.calendar.update(event.id, { title: 'Mine now' }),
    ).rejects.toBeInstanceOf(CalendarForbiddenError);
    await expect(bob.client.calendar.delete(event.id)).rejects.toBeInstanceOf(
      CalendarForbiddenError,
    );
    // The server refuses it too, even with content of bob's in the conversation.
    const { id: bobsMessage } = await bob.client.messages.send(group, { text: 'mine' });
    expect(
      await code(
        bob.client.api.calendar.update.mutate({
          eventId: event.id,
          expectedRevision: 1,
          scope: 'all',
          series: {
            allDay: false,
            start: event.start,
            end: event.end,
            timeZone: 'UTC',
            rrule: null,
            revision: 2,
            contentRef: bobsMessage,
          },
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await code(
        bob.client.api.calendar.delete.mutate({
          eventId: event.id,
          expectedRevision: 1,
          scope: 'all',
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(await code(carol.client.calendar.rsvp(event.id, 'accepted'))).toBe('FORBIDDEN');
    // Carol is a member: the event is in the conversation's calendar, but not in her own.
    expect((await carol.client.calendar.list(range)).occurrences).toEqual([]);
    expect(
      (await carol.client.calendar.list({ ...range, conversationId: group })).occurrences.map(
        (o) => o.title,
      ),
    ).toEqual(['Board meeting']);
    expect((await alice.client.calendar.get(event.id)).title).toBe('Board meeting');
  });

  it("refuses an attendee's earlier answer shown in place of a later one from the same device", async () => {
    const [alice, bob] = await people(server.url, 'aoa', 'aob');
    const group = await createGroup(alice, 'Order', [bob]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Standup',
      allDay: false,
      start: '2027-09-06T09:00:00Z',
      end: '2027-09-06T09:15:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=DAILY;COUNT=5',
      attendees: [bob.id],
    });
    const second = '2027-09-07T09:00:00Z';
    const bobAt = (viewer: Person) => answersOf(viewer, event.id, bob.id);
    const handle = createDb(server.app.databasePath);
    const { row, put } = answerRows(handle, event.id, bob.id);
    try {
      await bob.client.calendar.rsvp(event.id, 'accepted');
      await bob.client.calendar.rsvp(event.id, 'declined', { recurrenceId: second });
      for (const viewer of [alice, bob])
        expect(await bobAt(viewer)).toEqual(['accepted', `${second} declined`]);
      const accepted = row('calendar_attendees');
      const declinedSecond = row('calendar_occurrence_answers');

      // bob declines the whole series, which replaces his answer for the second day.
      await bob.client.calendar.rsvp(event.id, 'declined');
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['declined']);
      const declined = row('calendar_attendees');

      // The server shows his earlier answers again, each signed by him: neither counts.
      put('calendar_attendees', accepted);
      put('calendar_occurrence_answers', declinedSecond);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['needs-action']);

      // His latest answer still counts.
      put('calendar_attendees', declined);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['declined']);
    } finally {
      handle.close();
    }
  });

  it("refuses an attendee's answer from one device shown in place of a later one from another", async () => {
    const [alice, bob] = await people(server.url, 'xda', 'xdb');
    const phone = await anotherDevice(server.url, bob, 'bob phone');
    const group = await createGroup(alice, 'Devices', [bob]);
    const { event } = await alice.client.calendar.create({
      conversationId: group,
      title: 'Planning',
      allDay: false,
      start: '2027-10-04T09:00:00Z',
      end: '2027-10-04T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=4',
      attendees: [bob.id],
    });
    const second = '2027-10-11T09:00:00Z';
    const bobAt = (viewer: Person) => answersOf(viewer, event.id, bob.id);
    const handle = createDb(server.app.databasePath);
    const { row, put } = answerRows(handle, event.id, bob.id);
    try {
      // The series: accepted on his phone, then declined on his laptop, which saw that answer.
      await phone.client.calendar.rsvp(event.id, 'accepted');
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['accepted']);
      const onPhone = row('calendar_attendees');
      await bob.client.calendar.rsvp(event.id, 'declined');
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['declined']);
      const onLaptop = row('calendar_attendees');
      // The server shows the phone's answer again, signed by bob: it no longer counts for those
      // who saw the later one.
      put('calendar_attendees', onPhone);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['needs-action']);
      put('calendar_attendees', onLaptop);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['declined']);

      // One occurrence: tentative on the phone, then accepted on the laptop.
      expect(await bobAt(phone)).toEqual(['declined']);
      await phone.client.calendar.rsvp(event.id, 'tentative', { recurrenceId: second });
      const occurrenceOnPhone = row('calendar_occurrence_answers');
      for (const viewer of [alice, bob])
        expect(await bobAt(viewer)).toEqual(['declined', `${second} tentative`]);
      await bob.client.calendar.rsvp(event.id, 'accepted', { recurrenceId: second });
      for (const viewer of [alice, bob])
        expect(await bobAt(viewer)).toEqual(['declined', `${second} accepted`]);
      put('calendar_occurrence_answers', occurrenceOnPhone);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['declined']);
      // The phone's next answer comes after everything it replaced, and counts.
      await phone.client.calendar.rsvp(event.id, 'declined', { recurrenceId: second });
      for (const viewer of [alice, bob])
        expect(await bobAt(viewer)).toEqual(['declined', `${second} declined`]);
      const laterOnPhone = row('calendar_occurrence_answers');
      // An answer for the whole series replaces the other devices' answers for occurrences too.
      await bob.client.calendar.rsvp(event.id, 'tentative');
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['tentative']);
      put('calendar_occurrence_answers', laterOnPhone);
      for (const viewer of [alice, bob]) expect(await bobAt(viewer)).toEqual(['tentative']);
    } finally {
      handle.close();
    }
  });

  it('detects server-side tampering with the metadata or an answer', async () => {
    const [alice, bob] = await people(server.url, 'tma', 'tmb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const { event } = await alice.client.calendar.create({
      conversationId: id,
      title: 'Budget',
      allDay: false,
      start: '2027-08-02T09:00:00Z',
      end: '2027-08-02T10:00:00Z',
      timeZone: 'UTC',
      attendees: [bob.id],
    });
    const range = { from: day('2027-08-01'), to: day('2027-08-05') };
    expect((await bob.client.calendar.list(range)).occurrences).toHaveLength(1);

    const handle = createDb(server.app.databasePath);
    try {
      // The server serves an older, correctly signed revision after bob saw a newer one.
      const columns = 'revision, start, "end", content_ref, signed_by_device';
      const first = handle.sqlite
        .prepare(`select ${columns} from calendar_events where id = ?`)
        .get(event.id) as Record<string, unknown>;
      await alice.client.calendar.update(event.id, { title: 'Budget (final)' });
      expect((await bob.client.calendar.get(event.id)).title).toBe('Budget (final)');
      const second = handle.sqlite
        .prepare(`select ${columns} from calendar_events where id = ?`)
        .get(event.id) as Record<string, unknown>;
      const restore = (row: Record<string, unknown>) =>
        handle.sqlite
          .prepare(
            'update calendar_events set revision = ?, start = ?, "end" = ?, content_ref = ?, signed_by_device = ? where id = ?',
          )
          .run(row.revision, row.start, row.end, row.content_ref, row.signed_by_device, event.id);
      restore(first);
      expect((await bob.client.calendar.list(range)).rejected).toEqual([
        expect.objectContaining({ eventId: event.id, reason: expect.stringContaining('older') }),
      ]);
      restore(second);

      // The server says bob accepted, without an answer of his: shown as not answered.
      handle.sqlite
        .prepare("update calendar_attendees set status = 'accepted' where event_id = ?")
        .run(event.id);
      expect((await alice.client.calendar.get(event.id)).attendees[0]?.status).toBe('needs-action');
      // The server moves the event by an hour: clients refuse to show it.
      handle.sqlite
        .prepare('update calendar_events set start = ?, end = ? where id = ?')
        .run('2027-08-02T10:00:00Z', '2027-08-02T11:00:00Z', event.id);
    } finally {
      handle.close();
    }
    for (const viewer of [alice, bob]) {
      const { occurrences, rejected } = await viewer.client.calendar.list(range);
      expect(occurrences).toEqual([]);
      expect(rejected).toEqual([
        expect.objectContaining({ eventId: event.id, reason: expect.stringContaining('signed') }),
      ]);
      await expect(viewer.client.calendar.get(event.id)).rejects.toBeInstanceOf(
        CalendarVerificationError,
      );
    }
  });
});

describe('calendar: live and private', () => {
  it('delivers changes live, shows the event card in the chat, and folds answers away', async () => {
    const [alice, bob] = await people(server.url, 'lva', 'lvb');
    const { id } = await alice.client.conversations.openDirect(bob.username);
    await alice.client.messages.send(id, { text: 'shall we meet?' });
    const bobs = collect(bob.client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { event } = await alice.client.calendar.create({
      conversationId: id,
      title: 'Coffee',
      location: 'Corner café',
      allDay: false,
      start: '2027-09-01T08:00:00Z',
      end: '2027-09-01T08:30:00Z',
      timeZone: 'Europe/Berlin',
      attendees: [bob.id],
    });
    await waitFor(
      () =>
        bobs.events.some(
          (e) => e.type === 'calendar.changed' && e.eventId === event.id && e.change === 'created',
        ),
      5000,
      'the change to reach bob',
    );
    await waitFor(
      () => bobs.events.some((e) => e.type === 'message' && e.message.calendar !== undefined),
      5000,
      'the card to reach bob',
    );
    const card = bobs.events.flatMap((e) =>
      e.type === 'message' && e.message.calendar ? [e.message.calendar] : [],
    )[0];
    expect(card).toMatchObject({
      eventId: event.id,
      title: 'Coffee',
      location: 'Corner café',
      start: '2027-09-01T08:00:00Z',
      deleted: false,
    });
    await bob.client.calendar.rsvp(event.id, 'accepted');
    await alice.client.calendar.delete(event.id);
    await waitFor(
      () =>
        bobs.events.some(
          (e) => e.type === 'calendar.changed' && e.eventId === event.id && e.change === 'deleted',
        ),
      5000,
      'the deletion to reach bob',
    );
    await bobs.stop();
    const chat = await alice.client.messages.list(id);
    // The card, then the cancellation card; the answer is not a chat message.
    expect(chat.filter((m) => m.calendar).map((m) => m.calendar!.deleted)).toEqual([true, false]);
    expect(chat).toHaveLength(3);
    expect(await code(bob.client.calendar.get(event.id))).toBe('NOT_FOUND');
  });

  it('keeps private events in the notes conversation, visible to no one else', async () => {
    const [alice, bob] = await people(server.url, 'pva', 'pvb');
    await alice.client.conversations.openDirect(bob.username);
    const { event } = await alice.client.calendar.create({
      title: 'Doctor',
      allDay: false,
      start: '2027-10-01T08:00:00Z',
      end: '2027-10-01T09:00:00Z',
      timeZone: 'UTC',
    });
    const { id: notes } = await alice.client.conversations.openNotes();
    expect(event.conversationId).toBe(notes);
    expect(await code(bob.client.calendar.get(event.id))).toBe('NOT_FOUND');
    // Free/busy shows bob the time, never the event.
    const [busy] = await bob.client.calendar.freeBusy([alice.id], {
      from: day('2027-10-01'),
      to: day('2027-10-02'),
    });
    expect(busy!.busy).toEqual([
      { start: new Date('2027-10-01T08:00:00Z'), end: new Date('2027-10-01T09:00:00Z') },
    ]);
  });

  it('keeps event titles out of the database file, its WAL and the server log', async () => {
    const [alice, bob] = await people(server.url, 'cna', 'cnb');
    const canary = `calendar-canary-${randomBytes(12).toString('hex')}`;
    const { id } = await alice.client.conversations.openDirect(bob.username);
    const { event } = await alice.client.calendar.create({
      conversationId: id,
      title: `title ${canary}`,
      description: `description ${canary}`,
      location: `location ${canary}`,
      notes: `notes ${canary}`,
      allDay: false,
      start: '2027-11-01T08:00:00Z',
      end: '2027-11-01T09:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY;COUNT=3',
      attendees: [bob.id],
    });
    await alice.client.calendar.update(
      event.id,
      { title: `moved ${canary}` },
      { scope: 'this', recurrenceId: '2027-11-08T08:00:00Z' },
    );
    await bob.client.calendar.rsvp(event.id, 'accepted', { comment: `comment ${canary}` });
    const { occurrences } = await bob.client.calendar.list({
      from: day('2027-11-01'),
      to: day('2027-11-30'),
    });
    expect(occurrences.map((o) => o.title)).toEqual([
      `title ${canary}`,
      `moved ${canary}`,
      `title ${canary}`,
    ]);
    expect((await alice.client.calendar.get(event.id)).attendees[0]?.comment).toBe(
      `comment ${canary}`,
    );
    for (const path of [server.app.databasePath, `${server.app.databasePath}-wal`]) {
      if (!existsSync(path)) continue;
      const content = readFileSync(path);
      expect(content.includes(canary), path).toBe(false);
      expect(content.includes(Buffer.from(canary, 'utf16le')), path).toBe(false);
    }
    expect(server.logs.join('\n')).not.toContain(canary);
  });
});
