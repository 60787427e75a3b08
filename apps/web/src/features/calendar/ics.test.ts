import { describe, expect, it } from 'vitest';
import allDay from './fixtures/all-day.ics?raw';
import recurring from './fixtures/recurring-with-exception.ics?raw';
import withZone from './fixtures/timezone.ics?raw';
import { icsFileName } from './ics-model.ts';
import { IcsError, parseIcs, toIcs, type IcsEvent } from './ics.ts';

const READER_ZONE = 'Europe/Berlin';

function roundTrip(events: IcsEvent[]): IcsEvent[] {
  const { events: again, warnings } = parseIcs(toIcs(events), READER_ZONE);
  expect(warnings).toEqual([]);
  return again;
}

describe('parseIcs on RFC 5545 examples', () => {
  it('reads a recurring event with an EXDATE, a moved and a cancelled occurrence', () => {
    const { events, warnings } = parseIcs(recurring, READER_ZONE);
    expect(warnings).toEqual([]);
    expect(events).toHaveLength(1);
    const [event] = events as [IcsEvent];
    expect(event).toMatchObject({
      uid: '19970901T130000Z-123402@example.com',
      title: 'Project review',
      description: 'Weekly on Tuesday and Thursday for five weeks',
      location: 'Conference Room - F123, Bldg. 002',
      allDay: false,
      // 09:00 in New York on 2 September 1997 (EDT, UTC−4).
      start: '1997-09-02T13:00:00Z',
      end: '1997-09-02T14:00:00Z',
      timeZone: 'America/New_York',
      reminders: [15],
    });
    expect(event.rrule?.split(';').sort()).toEqual(
      ['BYDAY=TU,TH', 'FREQ=WEEKLY', 'UNTIL=19971007T000000Z', 'WKST=SU'].sort(),
    );
    // The EXDATE, and the occurrence whose override says STATUS:CANCELLED.
    expect(event.exdates).toEqual(['1997-09-04T13:00:00Z', '1997-09-16T13:00:00Z']);
    expect(event.overrides).toEqual([
      {
        recurrenceId: '1997-09-09T13:00:00Z',
        start: '1997-09-09T15:00:00Z',
        end: '1997-09-09T16:00:00Z',
        title: 'Project review (moved)',
        description: '',
        location: 'Conference Room - F123, Bldg. 002',
      },
    ]);
  });

  it('keeps all-day events as dates, with DTEND exclusive and one day without it', () => {
    const { events } = parseIcs(allDay, 'Pacific/Kiritimati');
    expect(
      events.map(({ title, allDay, start, end, rrule }) => ({ title, allDay, start, end, rrule })),
    ).toEqual([
      {
        title: 'Festival International de Jazz de Montreal',
        allDay: true,
        start: '2007-06-28',
        end: '2007-07-09',
        rrule: null,
      },
      {
        title: 'Our Blissful Anniversary',
        allDay: true,
        start: '1997-11-02',
        end: '1997-11-03',
        rrule: 'FREQ=YEARLY',
      },
    ]);
    // The reader's zone never moves a date (the old calendar's off-by-one).
    expect(parseIcs(allDay, 'Pacific/Honolulu').events.map((e) => e.start)).toEqual([
      '2007-06-28',
      '1997-11-02',
    ]);
  });

  it('converts a TZID time to the instant it names', () => {
    const { events } = parseIcs(withZone, READER_ZONE);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      title: 'XYZ Project Review',
      description: 'Project XYZ Review Meeting',
      location: '1CP Conference Room 4350',
      // 08:30 EST (UTC−5).
      start: '1998-03-12T13:30:00Z',
      end: '1998-03-12T14:30:00Z',
      timeZone: 'America/New_York',
    });
  });

  it('uses the VTIMEZONE when the TZID is not an IANA name', () => {
    const renamed = recurring.replaceAll('America/New_York', 'Eastern Standard Time');
    const [event] = parseIcs(renamed, READER_ZONE).events as [IcsEvent];
    expect(event.start).toBe('1997-09-02T13:00:00Z');
    expect(event.exdates).toEqual(['1997-09-04T13:00:00Z', '1997-09-16T13:00:00Z']);
    // No IANA zone is known for it: recurrence follows the reader's.
    expect(event.timeZone).toBe(READER_ZONE);
  });

  it('pins floating times to the reader’s zone and reads DURATION', () => {
    const floating = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:floating@example.com',
      'DTSTART:20260301T090000',
      'DURATION:PT1H30M',
      'SUMMARY:Floating',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const [event] = parseIcs(floating, 'Asia/Tokyo').events as [IcsEvent];
    expect(event.start).toBe('2026-03-01T00:00:00Z');
    expect(event.end).toBe('2026-03-01T01:30:00Z');
    expect(event.timeZone).toBe('Asia/Tokyo');
  });

  it('refuses text that is not iCalendar, and skips a broken event with a warning', () => {
    expect(() => parseIcs('hello, world', READER_ZONE)).toThrow(IcsError);
    expect(() => parseIcs('BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD', READER_ZONE)).toThrow(
      IcsError,
    );
    const broken = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:no-start@example.com',
      'SUMMARY:No start',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:ok@example.com',
      'DTSTART:20260301T090000Z',
      'SUMMARY:Fine',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const result = parseIcs(broken, READER_ZONE);
    expect(result.events.map((e) => e.title)).toEqual(['Fine']);
    expect(result.warnings).toEqual(['Skipped “No start”: it has no start (DTSTART).']);
  });
});

describe('toIcs', () => {
  it('round-trips every fixture: import, export, import gives the same events', () => {
    for (const source of [recurring, allDay, withZone]) {
      const { events } = parseIcs(source, READER_ZONE);
      expect(roundTrip(events)).toEqual(events);
    }
  });

  it('writes wall-clock times with a TZID and a VTIMEZONE made from current rules', () => {
    const event: IcsEvent = {
      uid: 'standup@securechat',
      title: 'Stand-up; daily, 10 min',
      description: 'Line one\nLine two',
      location: '',
      allDay: false,
      // 09:00 in Berlin, winter (UTC+1).
      start: '2026-01-05T08:00:00Z',
      end: '2026-01-05T08:15:00Z',
      timeZone: 'Europe/Berlin',
      rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      exdates: ['2026-04-06T07:00:00Z'],
      overrides: [],
      reminders: [0, 10],
    };
    const text = toIcs([event], new Date('2026-01-01T00:00:00Z'));
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20260105T090000\r\n');
    expect(text).toContain('DTEND;TZID=Europe/Berlin:20260105T091500\r\n');
    // After the switch to summer time the excluded 09:00 is 07:00 UTC.
    expect(text).toContain('EXDATE;TZID=Europe/Berlin:20260406T090000\r\n');
    expect(text).toContain('SUMMARY:Stand-up\\; daily\\, 10 min\r\n');
    expect(text).toContain('DAYLIGHT');
    expect(text).toContain('TZOFFSETTO:+0200');
    expect(roundTrip([event])).toEqual([event]);
    // A reader that only has the VTIMEZONE (no IANA name) gets the same instants.
    const renamed = text.replaceAll('Europe/Berlin', 'Berlin local');
    const [fromRules] = parseIcs(renamed, 'UTC').events as [IcsEvent];
    expect(fromRules.start).toBe(event.start);
    expect(fromRules.exdates).toEqual(event.exdates);
    // Its X-LIC-LOCATION was renamed too, so no IANA zone is known: the reader's is used.
    expect(fromRules.timeZone).toBe('UTC');
  });

  it('writes all-day events as DATE values', () => {
    const [festival] = parseIcs(allDay, READER_ZONE).events as [IcsEvent];
    const text = toIcs([festival]);
    expect(text).toContain('DTSTART;VALUE=DATE:20070628\r\n');
    expect(text).toContain('DTEND;VALUE=DATE:20070709\r\n');
    expect(text).not.toContain('VTIMEZONE');
  });

  it('names files safely', () => {
    expect(icsFileName('Team sync / Q3: plan?')).toBe('Team-sync-Q3-plan.ics');
    expect(icsFileName('///')).toBe('calendar.ics');
  });
});
