import { RSVP_STATUSES } from '@securechat/db';
import { Temporal } from 'temporal-polyfill';
import { z } from 'zod';
import { DomainError } from '../../errors.ts';
import { idSchema } from '../wire.ts';
import { MAX_RANGE_MS, RecurrenceError, seriesSpan, type SeriesTimes } from './recurrence.ts';

/** Limits on what one event may carry. */
export const CALENDAR_LIMITS = {
  attendees: 100,
  reminders: 5,
  /** Four weeks, in minutes. */
  reminderMinutes: 40_320,
  exdates: 1000,
  /** Occurrences changed on their own that one change of the whole series may move. */
  movedOverrides: 1000,
  rruleChars: 500,
  /** A single occurrence lasts at most this long. */
  durationMs: 366 * 24 * 60 * 60 * 1000,
  freeBusyUsers: 50,
} as const;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Structure only; {@link checkTimes} and {@link checkSeries} check meaning, naming the field. */
const timesShape = {
  allDay: z.boolean(),
  start: z.string().max(32),
  end: z.string().max(32),
  timeZone: z.string().min(1, 'Time zone is required').max(64),
};

export const seriesInput = z.object({
  ...timesShape,
  revision: z.number().int().min(1),
  rrule: z
    .string()
    .max(
      CALENDAR_LIMITS.rruleChars,
      `The rule must be at most ${CALENDAR_LIMITS.rruleChars} characters`,
    )
    .nullable(),
  exdates: z.array(z.string().max(32)).max(CALENDAR_LIMITS.exdates).default([]),
  attendees: z
    .array(idSchema)
    .max(CALENDAR_LIMITS.attendees, `At most ${CALENDAR_LIMITS.attendees} attendees`)
    .default([]),
  reminders: z
    .array(z.number().int())
    .max(CALENDAR_LIMITS.reminders, `At most ${CALENDAR_LIMITS.reminders} reminders`)
    .default([]),
  /** The client message id of this revision's encrypted content in the conversation. */
  contentRef: idSchema,
});
export type SeriesInput = z.infer<typeof seriesInput>;

export const overrideInput = z.object({
  ...timesShape,
  recurrenceId: z.string().max(32),
  revision: z.number().int().min(1),
  contentRef: idSchema,
});
export type OverrideInput = z.infer<typeof overrideInput>;

/** Occurrences changed on their own, re-signed under the recurrence id each moved to from `from`. */
const movedOverridesInput = z
  .array(z.object({ from: z.string().max(32), override: overrideInput }))
  .max(
    CALENDAR_LIMITS.movedOverrides,
    `At most ${CALENDAR_LIMITS.movedOverrides} moved occurrences`,
  )
  .optional();
export type MovedOverridesInput = NonNullable<z.infer<typeof movedOverridesInput>>;

export const scopeSchema = z.enum(['this', 'following', 'all']);

export const createInput = z.object({
  eventId: idSchema,
  conversationId: idSchema,
  series: seriesInput,
});

export const updateInput = z.object({
  eventId: idSchema,
  /** The series revision the change builds on. */
  expectedRevision: z.number().int().min(1),
  scope: scopeSchema,
  /** The occurrence changed ('this') or from which on ('following'). */
  recurrenceId: z.string().max(32).optional(),
  /** The series' next revision ('all'; 'following': the series ending before the occurrence). */
  series: seriesInput.optional(),
  /** 'this': the occurrence's own next revision. */
  override: overrideInput.optional(),
  /**
   * 'following': the new series from the occurrence on, with the occurrences changed on their
   * own from there on, re-signed for it.
   */
  split: z
    .object({ eventId: idSchema, series: seriesInput, overrides: movedOverridesInput })
    .optional(),
  /**
   * 'all', when the series' start moved: each occurrence changed on its own, re-signed under the
   * recurrence id it moved to.
   */
  movedOverrides: movedOverridesInput,
});
export type UpdateInput = z.infer<typeof updateInput>;

export const deleteInput = z.object({
  eventId: idSchema,
  expectedRevision: z.number().int().min(1),
  scope: scopeSchema,
  recurrenceId: z.string().max(32).optional(),
  /** 'this' (with the occurrence in `exdates`) and 'following' (ending before it). */
  series: seriesInput.optional(),
});
export type DeleteInput = z.infer<typeof deleteInput>;

const rangeShape = { from: z.date(), to: z.date() };

export const listInput = z.object({ ...rangeShape, conversationId: idSchema.optional() });

export const byIdInput = z.object({ eventId: idSchema });

export const rsvpInput = z.object({
  eventId: idSchema,
  status: z.enum(RSVP_STATUSES),
  /** The attendee's encrypted answer (status and comment) in the conversation. */
  rsvpRef: idSchema,
  /** An answer for this occurrence of a series only; absent: for the whole series. */
  recurrenceId: z.string().max(32).optional(),
});

export const freeBusyInput = z.object({
  ...rangeShape,
  userIds: z
    .array(idSchema)
    .min(1, 'Name at least one user')
    .max(CALENDAR_LIMITS.freeBusyUsers, `At most ${CALENDAR_LIMITS.freeBusyUsers} users`),
  /** An event the caller can see, left out: its own times while it is being moved. */
  excludeEventId: idSchema.optional(),
});

// -------------------------------------------------------------------------------------------------
// Meaning, checked after structure, with errors by field.

function validDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  try {
    Temporal.PlainDate.from(value, { overflow: 'reject' });
    return true;
  } catch {
    return false;
  }
}

function validInstant(value: string): boolean {
  return INSTANT.test(value) && validDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

export function validTimeZone(zone: string): boolean {
  try {
    Temporal.Now.instant().toZonedDateTimeISO(zone);
    return true;
  } catch {
    return false;
  }
}

/** A recurrence id must have the series' start format. */
export function validRecurrenceId(allDay: boolean, value: string): boolean {
  return allDay ? validDate(value) : validInstant(value);
}

/** Checks an event's or occurrence's times; throws a field error. */
export function checkTimes(t: { allDay: boolean; start: string; end: string; timeZone: string }) {
  if (!validTimeZone(t.timeZone))
    throw new DomainError('invalid', 'Unknown time zone', { timeZone: ['Unknown time zone'] });
  const valid = t.allDay ? validDate : validInstant;
  const format = t.allDay ? 'a date (YYYY-MM-DD)' : 'a UTC time (YYYY-MM-DDTHH:mm:ssZ)';
  if (!valid(t.start))
    throw new DomainError('invalid', `Start must be ${format}`, { start: [`Must be ${format}`] });
  if (!valid(t.end))
    throw new DomainError('invalid', `End must be ${format}`, { end: [`Must be ${format}`] });
  const startMs = Date.parse(t.allDay ? `${t.start}T00:00:00Z` : t.start);
  const endMs = Date.parse(t.allDay ? `${t.end}T00:00:00Z` : t.end);
  if (endMs <= startMs)
    throw new DomainError('invalid', 'End must be after start', {
      end: ['Must be after start'],
    });
  if (endMs - startMs > CALENDAR_LIMITS.durationMs)
    throw new DomainError('invalid', 'An event lasts at most 366 days', {
      end: ['An event lasts at most 366 days'],
    });
}

/**
 * Checks a series revision and returns its span. The organizer cannot be an attendee (they
 * are always part of their event).
 */
export function checkSeries(series: SeriesInput, organizerId: string) {
  checkTimes(series);
  if (series.rrule !== null && !/^[A-Z0-9=;,+\-:]+$/.test(series.rrule)) {
    throw new DomainError('invalid', 'The recurrence rule has characters RRULE does not use', {
      rrule: ['Must be an RFC 5545 RRULE value, such as FREQ=WEEKLY;BYDAY=MO'],
    });
  }
  const badExdate = series.exdates.find((d) => !validRecurrenceId(series.allDay, d));
  if (badExdate !== undefined)
    throw new DomainError('invalid', `Not an occurrence start: ${badExdate}`, {
      exdates: ['Each must have the format of the start'],
    });
  if (new Set(series.attendees).size !== series.attendees.length)
    throw new DomainError('invalid', 'Attendees must be unique', {
      attendees: ['Must be unique'],
    });
  if (series.attendees.includes(organizerId))
    throw new DomainError('invalid', 'The organizer is not listed as an attendee', {
      attendees: ['The organizer is not listed as an attendee'],
    });
  if (
    new Set(series.reminders).size !== series.reminders.length ||
    series.reminders.some((m) => m < 0 || m > CALENDAR_LIMITS.reminderMinutes)
  )
    throw new DomainError('invalid', 'Reminders must be unique, from 0 to 40320 minutes before', {
      reminders: ['Unique, 0 to 40320 minutes before the start'],
    });
  try {
    return seriesSpan(series as SeriesTimes);
  } catch (error) {
    if (!(error instanceof RecurrenceError)) throw error;
    throw new DomainError('invalid', error.message, { rrule: [error.message] });
  }
}

/** A query range: `to` after `from`, at most 366 days. */
export function checkRange(range: { from: Date; to: Date }) {
  const fromMs = range.from.getTime();
  const toMs = range.to.getTime();
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || toMs <= fromMs)
    throw new DomainError('invalid', 'The range must end after it starts', {
      to: ['Must be after from'],
    });
  if (toMs - fromMs > MAX_RANGE_MS)
    throw new DomainError('invalid', 'A range spans at most 366 days', {
      to: ['At most 366 days after from'],
    });
  return { fromMs, toMs };
}
