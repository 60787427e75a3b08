import { useEffect } from 'react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { useE2ee, useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { readLocalPrefs } from '../e2ee/local-prefs.ts';
import { showReminderNotification } from '../e2ee/notifications.ts';
import { browserZone, isZone } from './calendar-time.ts';
import { useStoredChoice } from '../../lib/use-stored-choice.ts';

/** React Query keys of the calendar, under the user's end-to-end prefix (see e2eeKeys). */
export const calendarKeys = {
  all: (userId: string) => ['e2ee', userId, 'calendar'] as const,
  range: (userId: string, from: string, to: string, conversationId: string | null) =>
    ['e2ee', userId, 'calendar', 'range', from, to, conversationId] as const,
  event: (userId: string, eventId: string) =>
    ['e2ee', userId, 'calendar', 'event', eventId] as const,
};

/** Occurrences in a range (the visible one), for me or for one conversation. */
export function useOccurrences(
  range: { from: Date; to: Date } | null,
  conversationId: string | null = null,
) {
  const { client, user } = useReadyE2ee();
  return useQuery({
    queryKey: calendarKeys.range(
      user.id,
      range?.from.toISOString() ?? '',
      range?.to.toISOString() ?? '',
      conversationId,
    ),
    queryFn: () =>
      client.calendar.list({
        from: range!.from,
        to: range!.to,
        ...(conversationId ? { conversationId } : {}),
      }),
    enabled: range !== null,
    // Moving to the next week keeps the last one on screen until the new one arrives.
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

/** A whole series, as stored (for editing series-level fields and for export). */
export function useCalendarEvent(eventId: string | null) {
  const { client, user } = useReadyE2ee();
  return useQuery({
    queryKey: calendarKeys.event(user.id, eventId ?? ''),
    queryFn: () => client.calendar.get(eventId!),
    enabled: eventId !== null,
  });
}

/**
 * Keeps the calendar live for the signed-in user wherever they are in the app: a change to any
 * event refetches what is on screen, and a reminder (sent by the server without any content,
 * its title decrypted on this device) becomes a desktop notification.
 */
export function CalendarLive() {
  const { client, status, subscribe, user } = useE2ee();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  useEffect(() => {
    if (!client || status !== 'ready') return;
    return subscribe((event) => {
      if (event.type === 'calendar.changed') {
        void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) });
      } else if (event.type === 'calendar.reminder') {
        if (!readLocalPrefs(user.id).notifications) return;
        showReminderNotification({
          title: event.title,
          start: event.start,
          allDay: event.allDay,
          minutesBefore: event.minutesBefore,
          eventId: event.eventId,
          onClick: () => void navigate(`/calendar?event=${event.eventId}`),
        });
      }
    });
  }, [client, status, subscribe, queryClient, user.id, navigate]);
  return null;
}

/** The zone the calendar is shown in: the browser's, unless the user picked another here. */
export function useDisplayZone(userId: string): [string, (zone: string | null) => void] {
  return useStoredChoice<string>(
    `securechat:calendar-zone:${userId}`,
    (saved) => (isZone(saved) ? saved : null),
    browserZone,
  );
}
