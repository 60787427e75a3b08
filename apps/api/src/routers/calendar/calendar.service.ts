import {
  busyEventsOf,
  calendarDetails,
  overridesOf,
  type CalendarEventRow,
  type CalendarOverrideRow,
  type Db,
} from '@securechat/db';
import { toMessageDto } from '../messages/dto.ts';
import {
  expandOccurrences,
  instantString,
  timesToMs,
  type Occurrence,
  type OverrideTimes,
} from './recurrence.ts';

/**
 * An event as clients receive it: the metadata the server reads, plus the encrypted messages
 * that carry its content and the attendees' answers, so a client can decrypt and check them
 * against each other in one round trip.
 */
export function toEventDtos(db: Db, rows: CalendarEventRow[]) {
  const details = calendarDetails(db, rows);
  const message = (conversationId: string, ref: string | null) => {
    const row = ref ? details.messages.get(`${conversationId}/${ref}`) : undefined;
    return row ? toMessageDto(row) : null;
  };
  return rows.map((row) => ({
    id: row.id,
    conversationId: row.conversationId,
    organizer: { id: row.organizerId, username: details.organizers.get(row.organizerId) ?? '' },
    revision: row.revision,
    allDay: row.allDay,
    start: row.start,
    end: row.end,
    timeZone: row.timeZone,
    rrule: row.rrule,
    exdates: row.exdates,
    reminders: row.reminders,
    contentRef: row.contentRef,
    signedByDevice: row.signedByDevice,
    content: message(row.conversationId, row.contentRef),
    overrides: (details.overrides.get(row.id) ?? []).map((o) => ({
      recurrenceId: o.recurrenceId,
      revision: o.revision,
      allDay: o.allDay,
      start: o.start,
      end: o.end,
      timeZone: o.timeZone,
      contentRef: o.contentRef,
      signedByDevice: o.signedByDevice,
      content: message(row.conversationId, o.contentRef),
    })),
    attendees: (details.attendees.get(row.id) ?? []).map((a) => ({
      userId: a.userId,
      username: a.username,
      status: a.status,
      rsvpRef: a.rsvpRef,
      rsvp: message(row.conversationId, a.rsvpRef),
      // Answers for single occurrences, each its own signed message.
      occurrences: (details.answers.get(row.id) ?? [])
        .filter((o) => o.userId === a.userId)
        .map((o) => ({
          recurrenceId: o.recurrenceId,
          status: o.status,
          rsvpRef: o.rsvpRef,
          rsvp: message(row.conversationId, o.rsvpRef),
        })),
    })),
  }));
}
export type CalendarEventDto = ReturnType<typeof toEventDtos>[number];

/** The occurrences of a stored event that meet [fromMs, toMs). */
export function occurrencesOf(
  row: CalendarEventRow,
  overrides: OverrideTimes[],
  fromMs: number,
  toMs: number,
  limit?: number,
): Occurrence[] {
  return expandOccurrences(row, overrides, fromMs, toMs, limit);
}

export interface BusyInterval {
  startMs: number;
  endMs: number;
  eventId: string;
  conversationId: string;
}

/**
 * Busy time of users in [fromMs, toMs): occurrences of the events they organize or accepted
 * (all-day ones from midnight to midnight in the event's zone), by user. An attendee's answer for
 * one occurrence decides there over their answer for the series.
 */
export function busyIntervals(
  db: Db,
  userIds: string[],
  fromMs: number,
  toMs: number,
  excludeEventId?: string,
): Map<string, BusyInterval[]> {
  const busy = busyEventsOf(db, userIds, fromMs, toMs);
  const rows = busy.rows.filter((r) => r.event.id !== excludeEventId);
  const overrides = overridesOf(db, [...new Set(rows.map((r) => r.event.id))]);
  const byUser = new Map<string, BusyInterval[]>(userIds.map((id) => [id, []]));
  for (const { userId, event, status } of rows) {
    const answers = busy.answers.get(`${event.id} ${userId}`);
    for (const o of occurrencesOf(event, overrides.get(event.id) ?? [], fromMs, toMs)) {
      if (o.endMs <= fromMs || o.startMs >= toMs) continue;
      const answer = (o.recurrenceId !== null && answers?.get(o.recurrenceId)) || status;
      if (answer !== 'organizer' && answer !== 'accepted') continue;
      byUser.get(userId)?.push({
        startMs: o.startMs,
        endMs: o.endMs,
        eventId: event.id,
        conversationId: event.conversationId,
      });
    }
  }
  for (const list of byUser.values()) list.sort((a, b) => a.startMs - b.startMs);
  return byUser;
}

/** Overlapping intervals merged, so free/busy reveals times only, not how many events. */
export function mergeIntervals(list: { startMs: number; endMs: number }[]) {
  const merged: { startMs: number; endMs: number }[] = [];
  for (const i of [...list].sort((a, b) => a.startMs - b.startMs)) {
    const last = merged[merged.length - 1];
    if (last && i.startMs <= last.endMs) last.endMs = Math.max(last.endMs, i.endMs);
    else merged.push({ startMs: i.startMs, endMs: i.endMs });
  }
  return merged;
}

/**
 * Conflicts are looked for in the first 60 days (and 60 occurrences) of an event: far enough
 * for a warning to matter, near enough that checking costs little however full a calendar is.
 */
const CONFLICT_WINDOW_MS = 60 * 24 * 60 * 60 * 1000;
const MAX_CONFLICTS = 20;
const CONFLICT_OCCURRENCES = 60;

/**
 * The user's busy occurrences that overlap the given event's occurrences (within 60 days of its
 * start, or of now for a series already running), or the one occurrence `recurrenceId`, other
 * than the event itself.
 */
export function conflictsFor(
  db: Db,
  userId: string,
  event: CalendarEventRow,
  overrides: CalendarOverrideRow[],
  nowMs: number,
  recurrenceId?: string,
) {
  let mine: Occurrence[];
  if (recurrenceId !== undefined) {
    // Where the occurrence is now: an override may have moved it (within the window).
    const at = timesToMs({
      allDay: event.allDay,
      start: recurrenceId,
      end: recurrenceId,
      timeZone: event.timeZone,
    }).startMs;
    mine = occurrencesOf(event, overrides, at - CONFLICT_WINDOW_MS, at + CONFLICT_WINDOW_MS).filter(
      (o) => o.recurrenceId === recurrenceId,
    );
  } else {
    // A single event is checked at its time; a series from its start or, once running, from now.
    const fromMs = event.rrule
      ? Math.max(event.spanStartMs, nowMs - 24 * 60 * 60 * 1000)
      : event.spanStartMs;
    mine = occurrencesOf(
      event,
      overrides,
      fromMs,
      fromMs + CONFLICT_WINDOW_MS,
      CONFLICT_OCCURRENCES,
    );
  }
  if (mine.length === 0) return [];
  const windowStart = mine[0]!.startMs;
  const windowEnd = Math.max(...mine.map((o) => o.endMs));
  const busy = busyIntervals(db, [userId], windowStart, windowEnd, event.id).get(userId) ?? [];
  const conflicts: {
    eventId: string;
    conversationId: string;
    start: string;
    end: string;
  }[] = [];
  for (const b of busy) {
    if (mine.some((o) => o.startMs < b.endMs && b.startMs < o.endMs)) {
      conflicts.push({
        eventId: b.eventId,
        conversationId: b.conversationId,
        start: instantString(b.startMs),
        end: instantString(b.endMs),
      });
      if (conflicts.length >= MAX_CONFLICTS) break;
    }
  }
  return conflicts;
}
