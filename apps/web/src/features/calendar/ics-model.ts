import type { CalendarEvent, CalendarEventInput } from './types.ts';
import type { IcsEvent } from './ics.ts';

/**
 * Between the calendar's events and the iCalendar model of `ics.ts`, without iCalendar itself:
 * the app imports this where it shows events, and loads `ics.ts` (and ical.js with it) only when
 * a file is exported or imported.
 */

/** A file name for an export: the title made safe, or the range. */
export function icsFileName(base: string): string {
  const safe = base
    .replace(/[^\p{L}\p{N} ._-]+/gu, '')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 60);
  return `${safe || 'calendar'}.ics`;
}

/** The most reminders an event keeps (the server's limit). */
export const MAX_REMINDERS = 5;

/** A stored event (the whole series) as iCalendar. */
export function icsFromEvent(event: CalendarEvent): IcsEvent {
  return {
    uid: `${event.id}@securechat`,
    title: event.title,
    description: event.description,
    location: event.location,
    allDay: event.allDay,
    start: event.start,
    end: event.end,
    timeZone: event.timeZone,
    rrule: event.rrule,
    exdates: [...event.exdates].sort(),
    overrides: event.overrides.map((o) => ({
      recurrenceId: o.recurrenceId,
      start: o.start,
      end: o.end,
      title: o.title,
      description: o.description,
      location: o.location,
    })),
    reminders: [...event.reminders].sort((a, b) => a - b),
  };
}

/** What creating an imported event sends; its overrides follow as "this occurrence" updates. */
export function inputFromIcs(
  event: IcsEvent,
  conversationId: string | undefined,
): CalendarEventInput {
  // A zero-length event (DTSTART only) still needs an end after its start.
  const end =
    !event.allDay && event.end <= event.start
      ? new Date(Date.parse(event.start) + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
      : event.end;
  return {
    ...(conversationId ? { conversationId } : {}),
    title: event.title || 'Untitled event',
    description: event.description,
    location: event.location,
    allDay: event.allDay,
    start: event.start,
    end,
    timeZone: event.timeZone,
    rrule: event.rrule,
    exdates: event.exdates,
    reminders: event.reminders.filter((m) => m <= 40_320).slice(0, MAX_REMINDERS),
  };
}
