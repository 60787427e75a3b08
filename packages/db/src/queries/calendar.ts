import {
  and,
  asc,
  eq,
  exists,
  gte,
  inArray,
  isNotNull,
  isNull,
  ne,
  or,
  sql,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  calendarAttendees,
  calendarEvents,
  calendarOccurrenceAnswers,
  calendarOverrides,
  calendarRemindersFired,
  conversationMembers,
  messages,
  users,
  type CalendarAttendeeRow,
  type CalendarEventRow,
  type CalendarOccurrenceAnswerRow,
  type CalendarOverrideRow,
  type EventRow,
  type MessageRow,
  type RsvpStatus,
} from '../schema/index.ts';
import { appendEvents } from './events.ts';
import { messageByClientId } from './messages.ts';

/** When an event (or one of its occurrences) takes place, as stored. */
export interface CalendarTimes {
  allDay: boolean;
  start: string;
  end: string;
  timeZone: string;
}

/** A revision of a series (or single event): what the server may read, and its content. */
export interface CalendarSeriesWrite extends CalendarTimes {
  revision: number;
  rrule: string | null;
  exdates: string[];
  reminders: number[];
  attendees: string[];
  /** Bounds of every occurrence (computed by the caller, which expands the recurrence). */
  spanStartMs: number;
  spanEndMs: number | null;
  contentRef: string;
}

/** A revision of one occurrence changed on its own. */
export interface CalendarOverrideWrite extends CalendarTimes {
  recurrenceId: string;
  revision: number;
  contentRef: string;
}

export type CalendarChange = 'created' | 'updated' | 'deleted' | 'rsvp';

export type CalendarWriteResult =
  | { ok: true; events: EventRow[]; duplicate: boolean }
  | {
      ok: false;
      reason:
        | 'not_found'
        | 'not_organizer'
        | 'not_attendee'
        | 'stale'
        | 'bad_content'
        | 'attendee_not_member'
        | 'exists';
      detail?: string;
    };

type Tx = Db;

/** Rows grouped by their event, each group in the rows' order. */
function byEvent<T extends { eventId: string }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(row.eventId);
    if (list) list.push(row);
    else map.set(row.eventId, [row]);
  }
  return map;
}

/**
 * The encrypted message a calendar row points at must be in the event's conversation, sent by
 * the writer, and not deleted: then the row and the signed content travel together.
 */
function contentMessage(
  tx: Tx,
  conversationId: string,
  clientMessageId: string,
  userId: string,
): MessageRow | null {
  const message = messageByClientId(tx, conversationId, clientMessageId);
  if (!message || message.senderUserId !== userId || message.deletedAt !== null) return null;
  return message;
}

/** Rows inserted per statement, well inside SQLite's limit on bound parameters. */
const INSERT_CHUNK = 500;

/** Inserts rows in statements of at most {@link INSERT_CHUNK}. */
function insertAll<T extends typeof calendarOverrides | typeof calendarOccurrenceAnswers>(
  tx: Tx,
  table: T,
  rows: T['$inferInsert'][],
): void {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK)
    tx.insert(table)
      .values(rows.slice(i, i + INSERT_CHUNK))
      .run();
}

/** An event's answers for single occurrences that `moves` takes elsewhere, at their new ids. */
function answersMovedBy(
  tx: Tx,
  eventId: string,
  moves: { from: string; to: string }[],
): CalendarOccurrenceAnswerRow[] {
  const to = new Map(moves.map((m) => [m.from, m.to]));
  return tx
    .select()
    .from(calendarOccurrenceAnswers)
    .where(eq(calendarOccurrenceAnswers.eventId, eventId))
    .all()
    .flatMap((answer) => {
      const recurrenceId = to.get(answer.recurrenceId);
      return recurrenceId === undefined ? [] : [{ ...answer, recurrenceId }];
    });
}

/** Re-keys an event's answers for single occurrences; answers not moved are deleted. */
function moveAnswers(tx: Tx, eventId: string, moves: { from: string; to: string }[]): void {
  const moved = answersMovedBy(tx, eventId, moves);
  // Deleted first: a new recurrence id may be another answer's old one.
  tx.delete(calendarOccurrenceAnswers).where(eq(calendarOccurrenceAnswers.eventId, eventId)).run();
  insertAll(tx, calendarOccurrenceAnswers, moved);
}

/** Inserts new overrides of an event, each with the message that carries its content. */
function insertOverrides(
  tx: Tx,
  eventId: string,
  overrides: { override: CalendarOverrideWrite; message: MessageRow | null }[],
  now: Date,
): void {
  insertAll(
    tx,
    calendarOverrides,
    overrides.map(({ override, message }) => ({
      eventId,
      ...override,
      signedByDevice: message!.senderDeviceId,
      updatedAt: now,
    })),
  );
}

/**
 * Copies answers to a series split off from an event, for the attendees the new series has: each
 * one's answer for the series, and answers for single occurrences that `moves` takes to the new
 * series' recurrence ids.
 */
function copyAnswers(
  tx: Tx,
  fromEventId: string,
  toEventId: string,
  moves: { from: string; to: string }[],
): void {
  const invited = attendeeIds(tx, toEventId);
  const answered = tx
    .select()
    .from(calendarAttendees)
    .where(and(eq(calendarAttendees.eventId, fromEventId), isNotNull(calendarAttendees.rsvpRef)))
    .all()
    .filter((a) => invited.has(a.userId));
  for (const { userId, status, rsvpRef, rsvpDevice, updatedAt } of answered)
    tx.update(calendarAttendees)
      .set({ status, rsvpRef, rsvpDevice, updatedAt })
      .where(and(eq(calendarAttendees.eventId, toEventId), eq(calendarAttendees.userId, userId)))
      .run();
  insertAll(
    tx,
    calendarOccurrenceAnswers,
    answersMovedBy(tx, fromEventId, moves)
      .filter((a) => invited.has(a.userId))
      .map((a) => ({ ...a, eventId: toEventId })),
  );
}

function isMember(tx: Tx, conversationId: string, userId: string): boolean {
  return nonMembers(tx, conversationId, [userId]).length === 0;
}

/** The event, unless it is deleted or the user is not a member of its conversation. */
function liveEventFor(tx: Tx, eventId: string, userId: string): CalendarEventRow | undefined {
  const row = calendarEventById(tx, eventId);
  return row && row.deletedAt === null && isMember(tx, row.conversationId, userId)
    ? row
    : undefined;
}

/** Matches one user's attendee row of an event. */
function attendeeRow(eventId: string, userId: string) {
  return and(eq(calendarAttendees.eventId, eventId), eq(calendarAttendees.userId, userId));
}

function nonMembers(tx: Tx, conversationId: string, userIds: string[]): string[] {
  if (userIds.length === 0) return [];
  const members = new Set(
    tx
      .select({ userId: conversationMembers.userId })
      .from(conversationMembers)
      .where(
        and(
          eq(conversationMembers.conversationId, conversationId),
          inArray(conversationMembers.userId, userIds),
        ),
      )
      .all()
      .map((row) => row.userId),
  );
  return userIds.filter((id) => !members.has(id));
}

function seriesColumns(series: CalendarSeriesWrite) {
  return {
    revision: series.revision,
    allDay: series.allDay,
    start: series.start,
    end: series.end,
    timeZone: series.timeZone,
    rrule: series.rrule,
    exdates: series.exdates,
    reminders: series.reminders,
    spanStartMs: series.spanStartMs,
    spanEndMs: series.spanEndMs,
    contentRef: series.contentRef,
  };
}

/** Deletes these users' answers for single occurrences of an event. */
function dropAnswersOf(tx: Tx, eventId: string, userIds: string[]): void {
  tx.delete(calendarOccurrenceAnswers)
    .where(
      and(
        eq(calendarOccurrenceAnswers.eventId, eventId),
        inArray(calendarOccurrenceAnswers.userId, userIds),
      ),
    )
    .run();
}

/** The users invited to an event. */
function attendeeIds(tx: Tx, eventId: string): Set<string> {
  return new Set(
    tx
      .select({ userId: calendarAttendees.userId })
      .from(calendarAttendees)
      .where(eq(calendarAttendees.eventId, eventId))
      .all()
      .map((row) => row.userId),
  );
}

/** Replaces the attendee list, keeping the answers (series and occurrences) of those who stay. */
function setAttendees(tx: Tx, eventId: string, attendees: string[], now: Date): void {
  const existing = attendeeIds(tx, eventId);
  const wanted = new Set(attendees);
  const removed = [...existing].filter((id) => !wanted.has(id));
  if (removed.length > 0) {
    tx.delete(calendarAttendees)
      .where(
        and(eq(calendarAttendees.eventId, eventId), inArray(calendarAttendees.userId, removed)),
      )
      .run();
    dropAnswersOf(tx, eventId, removed);
  }
  const added = attendees.filter((id) => !existing.has(id));
  if (added.length > 0) {
    tx.insert(calendarAttendees)
      .values(
        added.map((userId) => ({
          eventId,
          userId,
          status: 'needs-action' as const,
          updatedAt: now,
        })),
      )
      .run();
  }
}

/** Inserts a series inside the caller's transaction, after checking its content and attendees. */
function insertSeries(
  tx: Tx,
  input: { id: string; conversationId: string; organizerId: string; series: CalendarSeriesWrite },
  now: Date,
): CalendarWriteResult | EventRow {
  const message = contentMessage(
    tx,
    input.conversationId,
    input.series.contentRef,
    input.organizerId,
  );
  if (!message) return { ok: false, reason: 'bad_content' };
  const outsiders = nonMembers(tx, input.conversationId, input.series.attendees);
  if (outsiders.length > 0) {
    return { ok: false, reason: 'attendee_not_member', detail: outsiders.join(', ') };
  }
  tx.insert(calendarEvents)
    .values({
      id: input.id,
      conversationId: input.conversationId,
      organizerId: input.organizerId,
      ...seriesColumns(input.series),
      signedByDevice: message.senderDeviceId,
      createdAt: now,
      updatedAt: now,
    })
    .run();
  setAttendees(tx, input.id, input.series.attendees, now);
  const [event] = appendEvents(
    tx,
    [
      {
        kind: 'calendar',
        conversationId: input.conversationId,
        data: { eventId: input.id, change: 'created' },
      },
    ],
    now,
  );
  return event!;
}

/**
 * Creates an event in one immediate transaction. The organizer must be a member, the content
 * message theirs and in the conversation, the attendees members. Creating the same id with the
 * same content again is an idempotent retry.
 */
export function createCalendarEvent(
  db: Db,
  input: { id: string; conversationId: string; organizerId: string; series: CalendarSeriesWrite },
  now: Date,
): CalendarWriteResult {
  return db.transaction(
    (tx) => {
      if (!isMember(tx, input.conversationId, input.organizerId))
        return { ok: false, reason: 'not_found' };
      const existing = calendarEventById(tx, input.id);
      if (existing) {
        return existing.organizerId === input.organizerId &&
          existing.conversationId === input.conversationId &&
          existing.contentRef === input.series.contentRef
          ? { ok: true, events: [], duplicate: true }
          : { ok: false, reason: 'exists' };
      }
      const result = insertSeries(tx, input, now);
      return 'kind' in result ? { ok: true, events: [result], duplicate: false } : result;
    },
    { behavior: 'immediate' },
  );
}

export interface CalendarChangeInput {
  eventId: string;
  userId: string;
  /** The series revision the writer built on: anything else is a concurrent change. */
  expectedRevision: number;
  /** A new revision of the series (revision = expectedRevision + 1). */
  series?: CalendarSeriesWrite;
  /** A new revision of one occurrence. */
  override?: CalendarOverrideWrite;
  /** Overrides from this recurrence id on are dropped (they moved to a split-off series). */
  dropOverridesFrom?: string;
  /** This occurrence's override is dropped (the occurrence was deleted). */
  dropOverride?: string;
  /**
   * A change of the whole series: these overrides go (moved, or no longer on the series) and
   * these come (where the series moved them).
   */
  replaceOverrides?: { drop: string[]; add: CalendarOverrideWrite[] };
  /**
   * Answers for these occurrences go (they are no longer on the series). Answers from
   * `dropOverridesFrom` on and for `dropOverride` go with those overrides.
   */
  dropAnswers?: string[];
  /**
   * The whole series moved: answers for single occurrences move from one recurrence id to
   * another, and answers for any occurrence not listed go.
   */
  moveAnswers?: { from: string; to: string }[];
  /** New bounds of the series' occurrences, when an override moved one outside them. */
  span?: { spanStartMs: number; spanEndMs: number | null };
  /** Deletes the whole series. */
  delete?: boolean;
  /**
   * A series split off from this one ("this and following"), in the same conversation, with
   * the occurrences changed on their own that it takes along. The answers of the attendees it
   * keeps go with it: for the series, and for single occurrences where `answerMoves` takes them
   * (from a recurrence id of this event to one of the new).
   */
  split?: {
    id: string;
    series: CalendarSeriesWrite;
    overrides?: CalendarOverrideWrite[];
    answerMoves?: { from: string; to: string }[];
  };
}

/**
 * Changes an event in one immediate transaction: only its organizer may, only while a member,
 * and only from the revision they saw (PRECONDITION_FAILED otherwise). Every new content
 * revision must be a message of theirs in the event's conversation.
 */
export function changeCalendarEvent(
  db: Db,
  input: CalendarChangeInput,
  now: Date,
): CalendarWriteResult {
  return db.transaction(
    (tx) => {
      const row = liveEventFor(tx, input.eventId, input.userId);
      if (!row) return { ok: false, reason: 'not_found' };
      if (row.organizerId !== input.userId) return { ok: false, reason: 'not_organizer' };
      if (row.revision !== input.expectedRevision) return { ok: false, reason: 'stale' };
      // Every check comes before the first write, so a refusal changes nothing.
      const splitMessage = input.split
        ? contentMessage(tx, row.conversationId, input.split.series.contentRef, input.userId)
        : null;
      if (input.split) {
        if (calendarEventById(tx, input.split.id)) return { ok: false, reason: 'exists' };
        if (!splitMessage) return { ok: false, reason: 'bad_content' };
      }
      const seriesMessage = input.series
        ? contentMessage(tx, row.conversationId, input.series.contentRef, input.userId)
        : null;
      if (input.series) {
        if (input.series.revision !== row.revision + 1) return { ok: false, reason: 'stale' };
        if (!seriesMessage) return { ok: false, reason: 'bad_content' };
      }
      const outsiders = nonMembers(tx, row.conversationId, [
        ...new Set([...(input.series?.attendees ?? []), ...(input.split?.series.attendees ?? [])]),
      ]);
      if (outsiders.length > 0)
        return { ok: false, reason: 'attendee_not_member', detail: outsiders.join(', ') };
      const o = input.override;
      const overrideMessage = o
        ? contentMessage(tx, row.conversationId, o.contentRef, input.userId)
        : null;
      if (o) {
        const previous = tx
          .select({ revision: calendarOverrides.revision })
          .from(calendarOverrides)
          .where(
            and(
              eq(calendarOverrides.eventId, row.id),
              eq(calendarOverrides.recurrenceId, o.recurrenceId),
            ),
          )
          .get();
        if (o.revision !== (previous?.revision ?? 0) + 1) return { ok: false, reason: 'stale' };
        if (!overrideMessage) return { ok: false, reason: 'bad_content' };
      }
      const signed = (overrides: CalendarOverrideWrite[] = []) =>
        overrides.map((override) => ({
          override,
          message: contentMessage(tx, row.conversationId, override.contentRef, input.userId),
        }));
      const movedIn = signed(input.replaceOverrides?.add);
      const splitOverrides = signed(input.split?.overrides);
      if ([...movedIn, ...splitOverrides].some((m) => !m.message))
        return { ok: false, reason: 'bad_content' };

      const logged: EventRow[] = [];
      if (input.split) {
        const created = insertSeries(
          tx,
          {
            id: input.split.id,
            conversationId: row.conversationId,
            organizerId: input.userId,
            series: input.split.series,
          },
          now,
        );
        if (!('kind' in created)) return created;
        logged.push(created);
        insertOverrides(tx, input.split.id, splitOverrides, now);
        copyAnswers(tx, row.id, input.split.id, input.split.answerMoves ?? []);
      }
      if (input.delete) {
        tx.update(calendarEvents)
          .set({ deletedAt: now, updatedAt: now })
          .where(eq(calendarEvents.id, row.id))
          .run();
      } else if (input.series && seriesMessage) {
        tx.update(calendarEvents)
          .set({
            ...seriesColumns(input.series),
            signedByDevice: seriesMessage.senderDeviceId,
            updatedAt: now,
          })
          .where(eq(calendarEvents.id, row.id))
          .run();
        setAttendees(tx, row.id, input.series.attendees, now);
      }
      // Rows of single occurrences (their changes, their answers) whose recurrence id matches.
      const drop = (
        tables: (typeof calendarOverrides | typeof calendarOccurrenceAnswers)[],
        which: (recurrenceId: SQLWrapper) => SQL,
      ) => {
        for (const table of tables)
          tx.delete(table)
            .where(and(eq(table.eventId, row.id), which(table.recurrenceId)))
            .run();
      };
      const both = [calendarOverrides, calendarOccurrenceAnswers];
      const { dropOverridesFrom: from, dropOverride: one } = input;
      if (from !== undefined) drop(both, (id) => gte(id, from));
      if (one !== undefined) drop(both, (id) => eq(id, one));
      const dropped = input.replaceOverrides?.drop ?? [];
      if (dropped.length > 0) drop([calendarOverrides], (id) => inArray(id, dropped));
      const answers = input.dropAnswers ?? [];
      if (answers.length > 0) drop([calendarOccurrenceAnswers], (id) => inArray(id, answers));
      if (input.moveAnswers) moveAnswers(tx, row.id, input.moveAnswers);
      insertOverrides(tx, row.id, movedIn, now);
      if (input.span && !input.delete) {
        tx.update(calendarEvents).set(input.span).where(eq(calendarEvents.id, row.id)).run();
      }
      if (o && overrideMessage) {
        const values = {
          revision: o.revision,
          allDay: o.allDay,
          start: o.start,
          end: o.end,
          timeZone: o.timeZone,
          contentRef: o.contentRef,
          signedByDevice: overrideMessage.senderDeviceId,
          updatedAt: now,
        };
        tx.insert(calendarOverrides)
          .values({ eventId: row.id, recurrenceId: o.recurrenceId, ...values })
          .onConflictDoUpdate({
            target: [calendarOverrides.eventId, calendarOverrides.recurrenceId],
            set: values,
          })
          .run();
      }
      logged.push(
        ...appendEvents(
          tx,
          [
            {
              kind: 'calendar',
              conversationId: row.conversationId,
              data: { eventId: row.id, change: input.delete ? 'deleted' : 'updated' },
            },
          ],
          now,
        ),
      );
      return { ok: true, events: logged, duplicate: false };
    },
    { behavior: 'immediate' },
  );
}

/**
 * Records an attendee's answer, for the series or (with `recurrenceId`, which the caller checked
 * is an occurrence of it) for one occurrence. The answer's message must be theirs, in the
 * conversation. An answer for the series replaces their answers for single occurrences.
 */
export function setCalendarRsvp(
  db: Db,
  input: {
    eventId: string;
    userId: string;
    status: RsvpStatus;
    rsvpRef: string;
    recurrenceId?: string;
  },
  now: Date,
): CalendarWriteResult {
  return db.transaction(
    (tx) => {
      const row = liveEventFor(tx, input.eventId, input.userId);
      if (!row) return { ok: false, reason: 'not_found' };
      const attendee = tx
        .select()
        .from(calendarAttendees)
        .where(attendeeRow(row.id, input.userId))
        .get();
      if (!attendee) return { ok: false, reason: 'not_attendee' };
      const message = contentMessage(tx, row.conversationId, input.rsvpRef, input.userId);
      if (!message) return { ok: false, reason: 'bad_content' };
      const { recurrenceId } = input;
      if (recurrenceId === undefined) {
        if (attendee.rsvpRef === input.rsvpRef) return { ok: true, events: [], duplicate: true };
        tx.update(calendarAttendees)
          .set({
            status: input.status,
            rsvpRef: input.rsvpRef,
            rsvpDevice: message.senderDeviceId,
            updatedAt: now,
          })
          .where(attendeeRow(row.id, input.userId))
          .run();
        dropAnswersOf(tx, row.id, [input.userId]);
      } else {
        const values = {
          status: input.status,
          rsvpRef: input.rsvpRef,
          rsvpDevice: message.senderDeviceId,
          updatedAt: now,
        };
        const previous = tx
          .select({ rsvpRef: calendarOccurrenceAnswers.rsvpRef })
          .from(calendarOccurrenceAnswers)
          .where(
            and(
              eq(calendarOccurrenceAnswers.eventId, row.id),
              eq(calendarOccurrenceAnswers.userId, input.userId),
              eq(calendarOccurrenceAnswers.recurrenceId, recurrenceId),
            ),
          )
          .get();
        if (previous?.rsvpRef === input.rsvpRef) return { ok: true, events: [], duplicate: true };
        tx.insert(calendarOccurrenceAnswers)
          .values({ eventId: row.id, userId: input.userId, recurrenceId, ...values })
          .onConflictDoUpdate({
            target: [
              calendarOccurrenceAnswers.eventId,
              calendarOccurrenceAnswers.userId,
              calendarOccurrenceAnswers.recurrenceId,
            ],
            set: values,
          })
          .run();
      }
      const events = appendEvents(
        tx,
        [
          {
            kind: 'calendar',
            conversationId: row.conversationId,
            data: { eventId: row.id, change: 'rsvp', userId: input.userId },
          },
        ],
        now,
      );
      return { ok: true, events, duplicate: false };
    },
    { behavior: 'immediate' },
  );
}

export function calendarEventById(db: Db, id: string): CalendarEventRow | undefined {
  return db.select().from(calendarEvents).where(eq(calendarEvents.id, id)).get();
}

/** Events not deleted whose span [spanStartMs, spanEndMs] meets [fromMs, toMs), and `more`. */
function liveInRange(fromMs: number, toMs: number, ...more: (SQL | undefined)[]) {
  return and(
    isNull(calendarEvents.deletedAt),
    sql`${calendarEvents.spanStartMs} < ${toMs}`,
    or(isNull(calendarEvents.spanEndMs), sql`${calendarEvents.spanEndMs} > ${fromMs}`),
    ...more,
  );
}

/** Joins the membership of `userId` (a value or a column) in the event's conversation. */
function memberOfEventConversation(userId: string | SQLWrapper) {
  return and(
    eq(conversationMembers.conversationId, calendarEvents.conversationId),
    eq(conversationMembers.userId, userId),
  );
}

/**
 * Events that may have occurrences in [fromMs, toMs): of one conversation, or (no
 * conversation) the user's own: in their conversations, organized by them or inviting them.
 */
export function calendarEventsInRange(
  db: Db,
  input: { userId: string; conversationId?: string; fromMs: number; toMs: number },
): CalendarEventRow[] {
  const invited = db
    .select({ eventId: calendarAttendees.eventId })
    .from(calendarAttendees)
    .where(eq(calendarAttendees.userId, input.userId));
  return db
    .select({ event: calendarEvents })
    .from(calendarEvents)
    .innerJoin(conversationMembers, memberOfEventConversation(input.userId))
    .where(
      liveInRange(
        input.fromMs,
        input.toMs,
        input.conversationId
          ? eq(calendarEvents.conversationId, input.conversationId)
          : or(eq(calendarEvents.organizerId, input.userId), inArray(calendarEvents.id, invited)),
      ),
    )
    .orderBy(asc(calendarEvents.spanStartMs))
    .all()
    .map((row) => row.event);
}

export interface CalendarAttendeeView extends CalendarAttendeeRow {
  username: string;
}

export interface CalendarDetails {
  overrides: Map<string, CalendarOverrideRow[]>;
  attendees: Map<string, CalendarAttendeeView[]>;
  /** Answers for single occurrences, by event, oldest occurrence first. */
  answers: Map<string, CalendarOccurrenceAnswerRow[]>;
  /** Content and answer messages, by `conversationId/clientMessageId`. */
  messages: Map<string, MessageRow>;
  organizers: Map<string, string>;
}

/** Overrides, attendees (with names) and the messages that events and answers point at. */
export function calendarDetails(db: Db, rows: CalendarEventRow[]): CalendarDetails {
  const ids = rows.map((r) => r.id);
  const details: CalendarDetails = {
    overrides: new Map(),
    attendees: new Map(),
    answers: new Map(),
    messages: new Map(),
    organizers: new Map(),
  };
  if (ids.length === 0) return details;
  details.overrides = byEvent(
    db
      .select()
      .from(calendarOverrides)
      .where(inArray(calendarOverrides.eventId, ids))
      .orderBy(asc(calendarOverrides.recurrenceId))
      .all(),
  );
  details.attendees = byEvent(
    db
      .select({ attendee: calendarAttendees, username: users.username })
      .from(calendarAttendees)
      .innerJoin(users, eq(users.id, calendarAttendees.userId))
      .where(inArray(calendarAttendees.eventId, ids))
      .orderBy(asc(users.username))
      .all()
      .map((a) => ({ ...a.attendee, username: a.username })),
  );
  details.answers = occurrenceAnswersOf(db, ids);
  const organizerIds = [...new Set(rows.map((r) => r.organizerId))];
  for (const u of db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(inArray(users.id, organizerIds))
    .all()) {
    details.organizers.set(u.id, u.username);
  }
  const conversationOf = new Map(rows.map((r) => [r.id, r.conversationId]));
  const wanted = new Map<string, string[]>();
  const want = (conversationId: string, ref: string | null) => {
    if (!ref) return;
    const list = wanted.get(conversationId) ?? [];
    list.push(ref);
    wanted.set(conversationId, list);
  };
  for (const r of rows) want(r.conversationId, r.contentRef);
  for (const [eventId, list] of details.overrides)
    for (const o of list) want(conversationOf.get(eventId)!, o.contentRef);
  for (const [eventId, list] of details.attendees)
    for (const a of list) want(conversationOf.get(eventId)!, a.rsvpRef);
  for (const [eventId, list] of details.answers)
    for (const a of list) want(conversationOf.get(eventId)!, a.rsvpRef);
  for (const [conversationId, refs] of wanted) {
    for (const m of db
      .select()
      .from(messages)
      .where(
        and(eq(messages.conversationId, conversationId), inArray(messages.clientMessageId, refs)),
      )
      .all()) {
      details.messages.set(`${m.conversationId}/${m.clientMessageId}`, m);
    }
  }
  return details;
}

/**
 * What may make users busy in [fromMs, toMs): events they organize, or were invited to and
 * accepted (the series, or at least one occurrence), in conversations they are still in. Each
 * row names which of `userIds` it is for and their answer for the series; `answers` holds their
 * answers for single occurrences (which decide there), by `eventId userId` and recurrence id.
 */
export function busyEventsOf(
  db: Db,
  userIds: string[],
  fromMs: number,
  toMs: number,
): {
  rows: { userId: string; event: CalendarEventRow; status: RsvpStatus | 'organizer' }[];
  answers: Map<string, Map<string, RsvpStatus>>;
} {
  if (userIds.length === 0) return { rows: [], answers: new Map() };
  const organized = db
    .select({
      userId: calendarEvents.organizerId,
      event: calendarEvents,
      status: sql<'organizer'>`'organizer'`,
    })
    .from(calendarEvents)
    .innerJoin(conversationMembers, memberOfEventConversation(calendarEvents.organizerId))
    .where(liveInRange(fromMs, toMs, inArray(calendarEvents.organizerId, userIds)))
    .all();
  const acceptedOccurrence = db
    .select({ one: sql`1` })
    .from(calendarOccurrenceAnswers)
    .where(
      and(
        eq(calendarOccurrenceAnswers.eventId, calendarAttendees.eventId),
        eq(calendarOccurrenceAnswers.userId, calendarAttendees.userId),
        eq(calendarOccurrenceAnswers.status, 'accepted'),
      ),
    );
  const accepted = db
    .select({
      userId: calendarAttendees.userId,
      event: calendarEvents,
      status: calendarAttendees.status,
    })
    .from(calendarAttendees)
    .innerJoin(calendarEvents, eq(calendarEvents.id, calendarAttendees.eventId))
    .innerJoin(conversationMembers, memberOfEventConversation(calendarAttendees.userId))
    .where(
      liveInRange(
        fromMs,
        toMs,
        inArray(calendarAttendees.userId, userIds),
        or(eq(calendarAttendees.status, 'accepted'), exists(acceptedOccurrence)),
      ),
    )
    .all();
  const answers = new Map<string, Map<string, RsvpStatus>>();
  const eventIds = [...new Set(accepted.map((r) => r.event.id))];
  for (const list of occurrenceAnswersOf(db, eventIds, userIds).values()) {
    for (const a of list) {
      const key = `${a.eventId} ${a.userId}`;
      const byOccurrence = answers.get(key) ?? new Map<string, RsvpStatus>();
      byOccurrence.set(a.recurrenceId, a.status);
      answers.set(key, byOccurrence);
    }
  }
  return { rows: [...organized, ...accepted], answers };
}

/** Answers for single occurrences of these events (of these users only, if given), by event. */
export function occurrenceAnswersOf(
  db: Db,
  eventIds: string[],
  userIds?: string[],
): Map<string, CalendarOccurrenceAnswerRow[]> {
  if (eventIds.length === 0 || userIds?.length === 0) return new Map();
  return byEvent(
    db
      .select()
      .from(calendarOccurrenceAnswers)
      .where(
        and(
          inArray(calendarOccurrenceAnswers.eventId, eventIds),
          userIds ? inArray(calendarOccurrenceAnswers.userId, userIds) : undefined,
        ),
      )
      .orderBy(asc(calendarOccurrenceAnswers.recurrenceId))
      .all(),
  );
}

/** The occurrences of an event that have answers of their own. */
export function answeredOccurrences(db: Db, eventId: string): string[] {
  return db
    .selectDistinct({ recurrenceId: calendarOccurrenceAnswers.recurrenceId })
    .from(calendarOccurrenceAnswers)
    .where(eq(calendarOccurrenceAnswers.eventId, eventId))
    .all()
    .map((r) => r.recurrenceId);
}

/** Overrides of the given events (for expanding busy time and reminders). */
export function overridesOf(db: Db, eventIds: string[]): Map<string, CalendarOverrideRow[]> {
  if (eventIds.length === 0) return new Map();
  return byEvent(
    db.select().from(calendarOverrides).where(inArray(calendarOverrides.eventId, eventIds)).all(),
  );
}

/** Live events with reminders whose occurrences may still be running at `fromMs` or later. */
export function calendarEventsWithReminders(db: Db, fromMs: number): CalendarEventRow[] {
  return db
    .select()
    .from(calendarEvents)
    .where(
      and(
        isNull(calendarEvents.deletedAt),
        ne(calendarEvents.reminders, sql`'[]'`),
        or(isNull(calendarEvents.spanEndMs), sql`${calendarEvents.spanEndMs} >= ${fromMs}`),
      ),
    )
    .all();
}

/** Keys (`eventId/occurrenceStartMs/minutesBefore`) of reminders fired at or after `sinceMs`. */
export function firedReminderKeys(db: Db, sinceMs: number): Set<string> {
  return new Set(
    db
      .select()
      .from(calendarRemindersFired)
      .where(sql`${calendarRemindersFired.dueAt} >= ${sinceMs}`)
      .all()
      .map((r) => `${r.eventId}/${r.occurrenceStartMs}/${r.minutesBefore}`),
  );
}

export interface DueReminder {
  eventId: string;
  occurrenceStartMs: number;
  minutesBefore: number;
  dueAt: Date;
  /** Facts for the content-free event the recipients receive. */
  recurrenceId: string | null;
  start: string;
  allDay: boolean;
}

/**
 * Fires a reminder: records it and logs one content-free event per recipient (the organizer
 * and every attendee who has not declined the occurrence, while still members) in one
 * immediate transaction.
 * A reminder already recorded logs nothing, so it never fires twice. Returns the logged events.
 */
export function fireReminder(db: Db, reminder: DueReminder, now: Date): EventRow[] {
  return db.transaction(
    (tx) => {
      const recorded = tx
        .insert(calendarRemindersFired)
        .values({
          eventId: reminder.eventId,
          occurrenceStartMs: reminder.occurrenceStartMs,
          minutesBefore: reminder.minutesBefore,
          dueAt: reminder.dueAt,
          firedAt: now,
        })
        .onConflictDoNothing()
        .returning()
        .all();
      if (recorded.length === 0) return [];
      const event = calendarEventById(tx, reminder.eventId);
      if (!event || event.deletedAt !== null) return [];
      // An answer for this occurrence decides over the answer for the series.
      const forOccurrence = new Map(
        reminder.recurrenceId === null
          ? []
          : tx
              .select({
                userId: calendarOccurrenceAnswers.userId,
                status: calendarOccurrenceAnswers.status,
              })
              .from(calendarOccurrenceAnswers)
              .where(
                and(
                  eq(calendarOccurrenceAnswers.eventId, event.id),
                  eq(calendarOccurrenceAnswers.recurrenceId, reminder.recurrenceId),
                ),
              )
              .all()
              .map((r) => [r.userId, r.status] as const),
      );
      const invited = tx
        .select({ userId: calendarAttendees.userId, status: calendarAttendees.status })
        .from(calendarAttendees)
        .where(eq(calendarAttendees.eventId, event.id))
        .all()
        .filter((r) => (forOccurrence.get(r.userId) ?? r.status) !== 'declined')
        .map((r) => r.userId);
      const candidates = [event.organizerId, ...invited];
      const outsiders = new Set(nonMembers(tx, event.conversationId, candidates));
      const recipients = candidates.filter((id) => !outsiders.has(id));
      return appendEvents(
        tx,
        recipients.map((userId) => ({
          kind: 'calendar.reminder' as const,
          userId,
          conversationId: event.conversationId,
          data: {
            eventId: event.id,
            recurrenceId: reminder.recurrenceId,
            start: reminder.start,
            allDay: reminder.allDay,
            minutesBefore: reminder.minutesBefore,
          },
        })),
        now,
      );
    },
    { behavior: 'immediate' },
  );
}
