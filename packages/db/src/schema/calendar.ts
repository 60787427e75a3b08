import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { conversations } from './conversations.ts';
import { users } from './users.ts';

export const RSVP_STATUSES = ['accepted', 'tentative', 'declined', 'needs-action'] as const;
export type RsvpStatus = (typeof RSVP_STATUSES)[number];

/**
 * A calendar event (a single event or a recurring series) as the server knows it (§3.11): only
 * what free/busy, conflicts, reminders and range queries need. Title, description, location and
 * notes are inside the end-to-end encrypted message `contentRef` of the owning conversation,
 * which also carries a signed copy of these columns, so clients detect any change made here.
 *
 * Times: a timed event's `start`/`end` are UTC instants (`YYYY-MM-DDTHH:mm:ssZ`); an all-day
 * event's are dates without a zone (`YYYY-MM-DD`, end exclusive). `spanStartMs`/`spanEndMs`
 * bound every occurrence (null end: the series never ends) so range queries use an index.
 */
export const calendarEvents = sqliteTable(
  'calendar_events',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    organizerId: text('organizer_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    allDay: integer('all_day', { mode: 'boolean' }).notNull(),
    start: text('start').notNull(),
    end: text('end').notNull(),
    timeZone: text('time_zone').notNull(),
    /** RFC 5545 RRULE value (without the `RRULE:` name), or null for a single event. */
    rrule: text('rrule'),
    /** Recurrence ids (original starts) left out of the series. */
    exdates: text('exdates', { mode: 'json' }).$type<string[]>().notNull(),
    /** Minutes before each occurrence's start at which reminders fire. */
    reminders: text('reminders', { mode: 'json' }).$type<number[]>().notNull(),
    spanStartMs: integer('span_start_ms').notNull(),
    spanEndMs: integer('span_end_ms'),
    /** The client message id of this revision's encrypted, signed content. */
    contentRef: text('content_ref').notNull(),
    /** The device that sent (and signed) `contentRef`. */
    signedByDevice: text('signed_by_device').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('calendar_events_conversation_idx').on(t.conversationId, t.spanStartMs),
    index('calendar_events_organizer_idx').on(t.organizerId, t.spanStartMs),
    index('calendar_events_reminders_idx')
      .on(t.spanEndMs)
      .where(sql`${t.deletedAt} is null and ${t.reminders} != '[]'`),
  ],
);

/**
 * One occurrence of a series changed on its own (RFC 5545 RECURRENCE-ID): its own times and
 * its own encrypted, signed content revision.
 */
export const calendarOverrides = sqliteTable(
  'calendar_overrides',
  {
    eventId: text('event_id')
      .notNull()
      .references(() => calendarEvents.id, { onDelete: 'cascade' }),
    /** The occurrence's original start, in the series' start format. */
    recurrenceId: text('recurrence_id').notNull(),
    revision: integer('revision').notNull(),
    allDay: integer('all_day', { mode: 'boolean' }).notNull(),
    start: text('start').notNull(),
    end: text('end').notNull(),
    timeZone: text('time_zone').notNull(),
    contentRef: text('content_ref').notNull(),
    signedByDevice: text('signed_by_device').notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.recurrenceId] })],
);

/**
 * An invited user and their answer. The answer is itself an encrypted message (`rsvpRef`, with
 * the attendee's comment) signed by the attendee, so clients can check the status shown here.
 */
export const calendarAttendees = sqliteTable(
  'calendar_attendees',
  {
    eventId: text('event_id')
      .notNull()
      .references(() => calendarEvents.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: RSVP_STATUSES }).notNull(),
    rsvpRef: text('rsvp_ref'),
    rsvpDevice: text('rsvp_device'),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.userId] }),
    index('calendar_attendees_user_idx').on(t.userId),
  ],
);

/**
 * An attendee's answer for one occurrence of a series (RFC 5545 RECURRENCE-ID), which takes
 * precedence over their answer for the series there. Like that answer, it is an encrypted message
 * of theirs (`rsvpRef`) that names the event, the occurrence and the status, signed.
 */
export const calendarOccurrenceAnswers = sqliteTable(
  'calendar_occurrence_answers',
  {
    eventId: text('event_id')
      .notNull()
      .references(() => calendarEvents.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The occurrence's original start, in the series' start format. */
    recurrenceId: text('recurrence_id').notNull(),
    status: text('status', { enum: RSVP_STATUSES }).notNull(),
    rsvpRef: text('rsvp_ref').notNull(),
    rsvpDevice: text('rsvp_device').notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.userId, t.recurrenceId] }),
    index('calendar_occurrence_answers_user_idx').on(t.userId),
  ],
);

/**
 * The reminders that have fired: one row per event, occurrence start and offset. A reminder is
 * recorded in the same immediate transaction that logs its events, and the primary key refuses
 * a second one, so it fires exactly once, across restarts too.
 */
export const calendarRemindersFired = sqliteTable(
  'calendar_reminders_fired',
  {
    eventId: text('event_id')
      .notNull()
      .references(() => calendarEvents.id, { onDelete: 'cascade' }),
    occurrenceStartMs: integer('occurrence_start_ms').notNull(),
    minutesBefore: integer('minutes_before').notNull(),
    dueAt: integer('due_at', { mode: 'timestamp_ms' }).notNull(),
    firedAt: integer('fired_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.occurrenceStartMs, t.minutesBefore] })],
);

export type CalendarEventRow = typeof calendarEvents.$inferSelect;
export type CalendarOverrideRow = typeof calendarOverrides.$inferSelect;
export type CalendarAttendeeRow = typeof calendarAttendees.$inferSelect;
export type CalendarOccurrenceAnswerRow = typeof calendarOccurrenceAnswers.$inferSelect;
