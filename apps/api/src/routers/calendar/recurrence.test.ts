import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { describe, expect, it } from 'vitest';
import {
  RecurrenceError,
  expandOccurrences,
  instantString,
  isOccurrenceOf,
  seriesSpan,
  type SeriesTimes,
} from './recurrence.ts';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
const DAY = 86_400_000;

/** A timed series at a local time outside every DST gap (08:00–20:59) in a real zone. */
const timedSeries = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    date: fc.date({
      min: new Date('2024-01-01'),
      max: new Date('2030-12-31'),
      noInvalidDate: true,
    }),
    hour: fc.integer({ min: 8, max: 20 }),
    minute: fc.constantFrom(0, 15, 30, 45),
    minutes: fc.integer({ min: 5, max: 600 }),
    freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
    interval: fc.integer({ min: 1, max: 3 }),
    count: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  })
  .map(({ zone, date, hour, minute, minutes, freq, interval, count }) => {
    const local = Temporal.PlainDate.from(date.toISOString().slice(0, 10)).toPlainDateTime({
      hour,
      minute,
    });
    const startMs = local.toZonedDateTime(zone).epochMilliseconds;
    const series: SeriesTimes = {
      allDay: false,
      start: instantString(startMs),
      end: instantString(startMs + minutes * 60_000),
      timeZone: zone,
      rrule: `FREQ=${freq};INTERVAL=${interval}${count ? `;COUNT=${count}` : ''}`,
      exdates: [],
    };
    return { series, hour, minute, zone };
  });

describe('recurrence', () => {
  it('keeps every occurrence at the series’ local time and inside its span', () => {
    fc.assert(
      fc.property(
        timedSeries,
        fc.integer({ min: 0, max: 800 }),
        fc.integer({ min: 1, max: 90 }),
        ({ series, hour, minute, zone }, offsetDays, days) => {
          const fromMs = Date.parse(series.start) + offsetDays * DAY;
          const toMs = fromMs + days * DAY;
          const span = seriesSpan(series);
          for (const o of expandOccurrences(series, [], fromMs, toMs)) {
            expect(o.startMs < toMs && o.endMs > fromMs).toBe(true);
            expect(o.endMs - o.startMs).toBe(Date.parse(series.end) - Date.parse(series.start));
            const local = Temporal.Instant.fromEpochMilliseconds(o.startMs).toZonedDateTimeISO(
              zone,
            );
            expect([local.hour, local.minute]).toEqual([hour, minute]);
            expect(o.startMs).toBeGreaterThanOrEqual(span.spanStartMs);
            if (span.spanEndMs !== null) expect(o.endMs).toBeLessThanOrEqual(span.spanEndMs);
            expect(isOccurrenceOf(series, o.recurrenceId!)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('recurs all-day events as dates, whatever the zone', () => {
    const series: SeriesTimes = {
      allDay: true,
      start: '2026-03-28',
      end: '2026-03-30',
      timeZone: 'Europe/Berlin',
      rrule: 'FREQ=WEEKLY;COUNT=3',
      exdates: ['2026-04-04'],
    };
    const all = expandOccurrences(series, [], Date.parse('2026-03-01'), Date.parse('2026-05-01'));
    expect(all.map((o) => [o.recurrenceId, o.start, o.end])).toEqual([
      ['2026-03-28', '2026-03-28', '2026-03-30'],
      ['2026-04-11', '2026-04-11', '2026-04-13'],
    ]);
    // 29 March, the change to summer time, is 23 hours long in Berlin.
    expect(all[0]!.endMs - all[0]!.startMs).toBe(47 * 3_600_000);
  });

  it('applies an override moved into the range from outside it', () => {
    const series: SeriesTimes = {
      allDay: false,
      start: '2027-01-04T09:00:00Z',
      end: '2027-01-04T10:00:00Z',
      timeZone: 'UTC',
      rrule: 'FREQ=WEEKLY',
      exdates: [],
    };
    const moved = {
      recurrenceId: '2027-01-11T09:00:00Z',
      allDay: false,
      start: '2027-01-20T09:00:00Z',
      end: '2027-01-20T10:00:00Z',
      timeZone: 'UTC',
    };
    const found = expandOccurrences(
      series,
      [moved],
      Date.parse('2027-01-19T00:00:00Z'),
      Date.parse('2027-01-21T00:00:00Z'),
    );
    expect(found).toEqual([expect.objectContaining({ start: moved.start, overridden: true })]);
  });

  it('reports a bad or unbounded rule as a RecurrenceError, never anything else', () => {
    for (const rrule of ['FREQ=SECONDLY', 'FREQ=HOURLY', 'COUNT=3', 'FREQ=DAILY;COUNT=5000']) {
      expect(() =>
        seriesSpan({
          allDay: false,
          start: '2027-01-04T09:00:00Z',
          end: '2027-01-04T10:00:00Z',
          timeZone: 'UTC',
          rrule,
          exdates: [],
        }),
      ).toThrow(RecurrenceError);
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9=;,+\-:]{1,60}$/), fc.boolean(), (rrule, allDay) => {
        const series: SeriesTimes = allDay
          ? { allDay, start: '2027-01-04', end: '2027-01-05', timeZone: 'UTC', rrule, exdates: [] }
          : {
              allDay,
              start: '2027-01-04T09:00:00Z',
              end: '2027-01-04T10:00:00Z',
              timeZone: 'Europe/Berlin',
              rrule,
              exdates: [],
            };
        try {
          seriesSpan(series);
          expandOccurrences(series, [], Date.parse('2027-01-01'), Date.parse('2027-12-31'));
        } catch (error) {
          expect(error).toBeInstanceOf(RecurrenceError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
