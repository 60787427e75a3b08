import { describe, expect, it } from 'vitest';
import { formatWhen, instantToLocalInput, localInputToInstant } from './calendar-time.ts';
import {
  changesFrom,
  fieldsToSpan,
  formToInput,
  occurrenceChanges,
  repeatOf,
  ruleOf,
  shiftSeries,
  spanToFields,
  toggleAllDay,
  validate,
  type EventFormState,
} from './event-form.ts';
import type { CalendarOccurrence } from './types.ts';

const form: EventFormState = {
  title: 'Planning',
  conversationId: 'c1',
  allDay: false,
  start: '2026-03-02T09:00',
  end: '2026-03-02T10:00',
  timeZone: 'Europe/Berlin',
  repeat: 'none',
  customRule: '',
  reminders: [10],
  attendees: ['u2'],
  location: '',
  description: '',
  notes: '',
};

const occurrence: CalendarOccurrence = {
  eventId: 'e1',
  conversationId: 'c1',
  recurrenceId: '2026-03-09T08:00:00Z',
  allDay: false,
  start: '2026-03-09T08:00:00Z',
  end: '2026-03-09T09:00:00Z',
  timeZone: 'Europe/Berlin',
  title: 'Planning',
  description: '',
  location: '',
  notes: '',
  organizer: { id: 'u1', username: 'ada' },
  attendees: [
    { userId: 'u2', username: 'bob', status: 'accepted', comment: null, occurrences: [] },
  ],
  myStatus: 'organizer',
  reminders: [10],
  rrule: 'FREQ=WEEKLY',
  overridden: false,
  revision: 1,
};

describe('the event form', () => {
  it('reads wall-clock times in the event’s zone, across a DST change', () => {
    expect(fieldsToSpan(form)).toEqual({
      allDay: false,
      start: '2026-03-02T08:00:00Z',
      end: '2026-03-02T09:00:00Z',
    });
    // Berlin is on summer time (UTC+2) from 29 March 2026.
    expect(localInputToInstant('2026-03-30T09:00', 'Europe/Berlin')).toBe('2026-03-30T07:00:00Z');
    expect(instantToLocalInput('2026-03-30T07:00:00Z', 'Europe/Berlin')).toBe('2026-03-30T09:00');
  });

  it('keeps an all-day event on its dates whatever the zone, with an exclusive end', () => {
    const span = { allDay: true, start: '2026-05-05', end: '2026-05-06' };
    for (const zone of ['Pacific/Honolulu', 'Pacific/Kiritimati', 'UTC']) {
      const fields = spanToFields(span, zone);
      expect(fields).toEqual({ start: '2026-05-05', end: '2026-05-05' });
      expect(fieldsToSpan({ ...fields, allDay: true, timeZone: zone })).toEqual(span);
      expect(formatWhen(span, zone, 'en-GB')).toBe('Tue, 5 May 2026, all day');
    }
  });

  it('turns all-day on and off keeping the days', () => {
    const allDay = toggleAllDay(form, true);
    expect(allDay).toMatchObject({ allDay: true, start: '2026-03-02', end: '2026-03-02' });
    expect(toggleAllDay(allDay, false)).toMatchObject({
      start: '2026-03-02T09:00',
      end: '2026-03-02T10:00',
    });
  });

  it('maps repeat presets to RRULEs and back, and checks custom rules', () => {
    expect(ruleOf({ repeat: 'weekdays', customRule: '' })).toBe('FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');
    expect(repeatOf('FREQ=WEEKLY;INTERVAL=2')).toEqual({ repeat: 'biweekly', customRule: '' });
    expect(repeatOf('FREQ=DAILY;COUNT=3')).toEqual({
      repeat: 'custom',
      customRule: 'FREQ=DAILY;COUNT=3',
    });
    expect(ruleOf({ repeat: 'custom', customRule: 'RRULE:FREQ=DAILY;COUNT=3' })).toBe(
      'FREQ=DAILY;COUNT=3',
    );
    expect(validate({ ...form, repeat: 'custom', customRule: 'every day' })).toHaveProperty(
      'rrule',
    );
    expect(validate({ ...form, title: ' ', end: '2026-03-02T08:00' })).toEqual({
      title: ['Enter a title.'],
      end: ['The end must be after the start.'],
    });
    expect(validate(form)).toEqual({});
  });

  it('sends private events without a conversation', () => {
    expect(formToInput(form, true)).not.toHaveProperty('conversationId');
    expect(formToInput(form, false)).toMatchObject({ conversationId: 'c1', rrule: null });
  });

  it('sends only what changed, and only occurrence fields for “this occurrence”', () => {
    const same = formToInput(
      { ...form, ...spanToFields(occurrence, 'Europe/Berlin'), repeat: 'weekly' },
      false,
    );
    expect(changesFrom(occurrence, same)).toEqual({});
    const moved = {
      ...same,
      start: '2026-03-09T09:00:00Z',
      end: '2026-03-09T10:00:00Z',
      reminders: [],
    };
    const changes = changesFrom(occurrence, moved);
    expect(changes).toEqual({
      allDay: false,
      start: '2026-03-09T09:00:00Z',
      end: '2026-03-09T10:00:00Z',
      reminders: [],
    });
    expect(occurrenceChanges(changes)).toEqual({
      allDay: false,
      start: '2026-03-09T09:00:00Z',
      end: '2026-03-09T10:00:00Z',
    });
  });

  it('moves a whole series by as much as one occurrence moved', () => {
    const series = { allDay: false, start: '2026-03-02T08:00:00Z', end: '2026-03-02T09:00:00Z' };
    expect(
      shiftSeries(series, occurrence, {
        allDay: false,
        start: '2026-03-09T09:30:00Z',
        end: '2026-03-09T11:00:00Z',
      }),
    ).toEqual({ allDay: false, start: '2026-03-02T09:30:00Z', end: '2026-03-02T11:00:00Z' });
    expect(
      shiftSeries(
        { allDay: true, start: '2026-03-02', end: '2026-03-03' },
        { allDay: true, start: '2026-03-09', end: '2026-03-10' },
        { allDay: true, start: '2026-03-11', end: '2026-03-13' },
      ),
    ).toEqual({ allDay: true, start: '2026-03-04', end: '2026-03-06' });
  });
});
