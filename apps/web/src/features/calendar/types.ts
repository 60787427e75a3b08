/** The calendar's types, as the client defines them. */
export type {
  CalendarAttendee,
  CalendarCard,
  CalendarConflict,
  CalendarEvent,
  CalendarEventInput,
  CalendarOccurrence,
  CalendarOverride,
  CalendarScope,
  RsvpStatus,
} from '@securechat/client';
