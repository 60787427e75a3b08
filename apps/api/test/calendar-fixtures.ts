import { randomBytes } from 'node:crypto';
import { opaqueMessage, type OpaqueUser } from './fixtures.ts';

/**
 * An event created through the raw API with opaque content: the server never parses the
 * encrypted part, so authorization tests need no cryptography. Returns the event's id and the
 * series as sent (revision 1), for building changes.
 */
export async function opaqueCalendarEvent(
  organizer: OpaqueUser,
  conversationId: string,
  epoch: number,
  options: { attendees?: string[]; start?: string; end?: string } = {},
) {
  const content = opaqueMessage(conversationId, epoch, 'calendar content');
  await organizer.client.api.messages.send.mutate(content);
  const eventId = randomBytes(16).toString('hex');
  const series = {
    allDay: false,
    start: options.start ?? '2027-03-01T10:00:00Z',
    end: options.end ?? '2027-03-01T11:00:00Z',
    timeZone: 'UTC',
    rrule: null,
    exdates: [],
    attendees: options.attendees ?? [],
    reminders: [],
    revision: 1,
    contentRef: content.clientMessageId,
  };
  await organizer.client.api.calendar.create.mutate({ eventId, conversationId, series });
  return { eventId, series };
}
