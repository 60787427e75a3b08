import { useId, useState } from 'react';
import { Link } from 'react-router';
import { CalendarIcon } from '../../components/icons.tsx';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { dateIn, formatWhen } from './calendar-time.ts';
import type { CalendarCard } from './types.ts';
import { useDisplayZone } from './use-calendar.ts';

/** A short line for previews (notifications, the conversation list). */
export function calendarCardSummary(card: CalendarCard): string {
  return `📅 ${card.deleted ? 'Cancelled: ' : ''}${card.title}`;
}

/**
 * An event as shown in its conversation's timeline: what, when (in the reader's calendar zone),
 * where, and a link that opens it in the calendar. `alongside` are the occurrences changed on
 * their own that this move of the whole series carried along; they are listed on request.
 */
export function EventCard({
  card,
  alongside = [],
}: {
  card: CalendarCard;
  alongside?: CalendarCard[];
}) {
  const { user } = useReadyE2ee();
  const [zone] = useDisplayZone(user.id);
  const [showAlongside, setShowAlongside] = useState(false);
  const listId = useId();
  const count = alongside.length;
  const kicker = card.deleted
    ? 'Event cancelled'
    : card.revision > 1
      ? card.recurrenceId
        ? 'One occurrence changed'
        : 'Event updated'
      : 'Event';
  const day = card.allDay ? card.start : dateIn(card.start, zone);
  return (
    <div
      className={`event-card${card.deleted ? ' event-card-cancelled' : ''}`}
      role="group"
      aria-label={`${kicker}: ${card.title}`}
    >
      <span className="event-card-kicker">
        <CalendarIcon width={14} height={14} /> {kicker}
      </span>
      <span className="event-card-title">{card.title || 'Untitled event'}</span>
      <span className="event-card-meta">
        {formatWhen(card, zone)}
        {card.rrule ? ' · repeats' : ''}
      </span>
      {card.location && <span className="event-card-meta">📍 {card.location}</span>}
      {count > 0 && (
        <>
          <button
            type="button"
            className="link-button event-card-alongside"
            aria-expanded={showAlongside}
            aria-controls={listId}
            onClick={() => setShowAlongside((shown) => !shown)}
          >
            {showAlongside ? 'Hide' : 'Show'} the{' '}
            {count === 1 ? 'occurrence' : `${count} occurrences`} moved with it
          </button>
          {showAlongside && (
            <ul id={listId} className="event-card-alongside-list">
              {alongside.map((occurrence) => (
                <li key={`${occurrence.recurrenceId}-${occurrence.revision}`}>
                  {formatWhen(occurrence, zone)}
                  {occurrence.title !== card.title && ` · ${occurrence.title || 'Untitled event'}`}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {!card.deleted && (
        <Link to={`/calendar?date=${day}&event=${card.eventId}`} className="event-card-link">
          Open in calendar
        </Link>
      )}
    </div>
  );
}
