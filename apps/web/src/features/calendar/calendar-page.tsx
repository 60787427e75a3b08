import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import type { ConversationSummary } from '@securechat/client';
import FullCalendar, {
  type CalendarRef,
  type DateSelectInfo,
  type DatesSetInfo,
  type EventChangeInfo,
  type EventClickInfo,
  type EventInput,
} from '@fullcalendar/react';
import dayGridPlugin from '@fullcalendar/react/daygrid';
import interactionPlugin from '@fullcalendar/react/interaction';
import listPlugin from '@fullcalendar/react/list';
import classicThemePlugin from '@fullcalendar/react/themes/classic';
import timeGridPlugin from '@fullcalendar/react/timegrid';
import '@fullcalendar/react/skeleton.css';
import '@fullcalendar/react/themes/classic/theme.css';
import '@fullcalendar/react/themes/classic/palette.css';
import { Dialog } from '../../components/dialog.tsx';
import { IconButton } from '../../components/icon-button.tsx';
import { PageHeading } from '../../components/page-heading.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useConversations } from '../chats/use-conversations.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { EncryptionGate } from '../e2ee/encryption-gate.tsx';
import { addDays, browserZone, toInstant } from './calendar-time.ts';
import { ZoneOptions } from './zone-options.tsx';
import {
  ConflictWarning,
  EventDialog,
  SCOPE_LABELS,
  type EventDialogTarget,
} from './event-dialog.tsx';
import { occurrenceChanges, shiftSeries, type EventSpan } from './event-form.ts';
import { downloadIcs } from './ics-files.ts';
import { icsFileName, icsFromEvent } from './ics-model.ts';
import { ImportDialog } from './import-dialog.tsx';
import type { CalendarConflict, CalendarOccurrence, CalendarScope } from './types.ts';
import { calendarKeys, useDisplayZone, useOccurrences } from './use-calendar.ts';
import { useStoredChoice } from '../../lib/use-stored-choice.ts';

const VIEWS = [
  { name: 'dayGridMonth', label: 'Month' },
  { name: 'timeGridWeek', label: 'Week' },
  { name: 'timeGridDay', label: 'Day' },
  { name: 'listWeek', label: 'Agenda' },
] as const;

type ViewName = (typeof VIEWS)[number]['name'];

/** Narrower than this, a week's seven columns are too tight to read: Day is the first view. */
const PHONE_WIDTH = '(max-width: 639px)';

/** The view last picked in this browser; otherwise Day on a phone, Week elsewhere. */
function useSavedView(userId: string) {
  return useStoredChoice<ViewName>(
    `securechat:calendar-view:${userId}`,
    (saved) => VIEWS.find((v) => v.name === saved)?.name ?? null,
    () => (window.matchMedia(PHONE_WIDTH).matches ? 'timeGridDay' : 'timeGridWeek'),
  );
}

const PLUGINS = [dayGridPlugin, timeGridPlugin, listPlugin, interactionPlugin, classicThemePlugin];

/** A drag or resize waiting for the user to say which occurrences it moves. */
interface PendingMove {
  occurrence: CalendarOccurrence;
  to: EventSpan;
  revert: () => void;
}

function spanOf(event: EventChangeInfo['event']): EventSpan | null {
  const start = event.startStr;
  if (!start) return null;
  if (event.allDay) {
    const first = start.slice(0, 10);
    return {
      allDay: true,
      start: first,
      end: event.endStr ? event.endStr.slice(0, 10) : addDays(first, 1),
    };
  }
  const startInstant = toInstant(start);
  // An event dragged from the all-day row gets no end: give it an hour.
  const end = event.endStr
    ? toInstant(event.endStr)
    : toInstant(Date.parse(startInstant) + 3_600_000);
  return { allDay: false, start: startInstant, end };
}

function statusClass(occurrence: CalendarOccurrence): string {
  switch (occurrence.myStatus) {
    case 'tentative':
      return 'calendar-event-tentative';
    case 'declined':
      return 'calendar-event-declined';
    case 'needs-action':
      return 'calendar-event-unanswered';
    default:
      return 'calendar-event-confirmed';
  }
}

/** Which events are shown: my calendar, or every event of one conversation. */
function ConversationFilter({
  value,
  conversations,
  onChange,
}: {
  value: string | null;
  conversations: ConversationSummary[];
  onChange: (conversationId: string | null) => void;
}) {
  const id = useId();
  return (
    <div className="calendar-zone">
      <label htmlFor={id} className="calendar-zone-label">
        Show
      </label>
      <select
        id={id}
        className="field-input calendar-zone-select"
        value={value ?? ''}
        onChange={(event) => onChange(event.target.value || null)}
      >
        <option value="">My calendar</option>
        {conversations
          .filter((c) => c.kind !== 'notes')
          .map((c) => (
            <option key={c.id} value={c.id}>
              Everything in {c.title}
            </option>
          ))}
      </select>
    </div>
  );
}

function ZonePicker({ zone, onChange }: { zone: string; onChange: (zone: string | null) => void }) {
  const id = useId();
  const local = browserZone();
  return (
    <div className="calendar-zone">
      <label htmlFor={id} className="calendar-zone-label">
        Time zone
      </label>
      <select
        id={id}
        className="field-input calendar-zone-select"
        value={zone}
        onChange={(event) => onChange(event.target.value === local ? null : event.target.value)}
      >
        <ZoneOptions current={zone} />
      </select>
    </div>
  );
}

function CalendarScreen() {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const conversations = useConversations();
  const conversationItems = useMemo(() => conversations.data?.items ?? [], [conversations.data]);
  const [zone, setZone] = useDisplayZone(user.id);
  const calendarRef = useRef<CalendarRef>(null);
  const [range, setRange] = useState<{ from: Date; to: Date } | null>(null);
  const [title, setTitle] = useState('');
  const [savedView, saveView] = useSavedView(user.id);
  // The view on screen: the saved one, or another reached through a day's link.
  const [view, setView] = useState<ViewName>(savedView);
  // null: my calendar (events I organize or am invited to); otherwise all of one conversation's.
  const [shown, setShown] = useState<string | null>(null);
  const occurrences = useOccurrences(range, shown);
  const [target, setTarget] = useState<EventDialogTarget | null>(null);
  const [pendingMove, setPendingMove] = useState<PendingMove | null>(null);
  const [moveScope, setMoveScope] = useState<CalendarScope>('this');
  const [importing, setImporting] = useState(false);
  const [notice, setNotice] = useState<{ message: string; conflicts: CalendarConflict[] } | null>(
    null,
  );
  const [actionError, setActionError] = useState<string | null>(null);
  const calendar = client.calendar;

  const byKey = useMemo(() => {
    const map = new Map<string, CalendarOccurrence>();
    for (const o of occurrences.data?.occurrences ?? []) {
      map.set(`${o.eventId}|${o.recurrenceId ?? ''}`, o);
    }
    return map;
  }, [occurrences.data]);

  const events = useMemo<EventInput[]>(
    () =>
      [...byKey.entries()].map(([key, o]) => ({
        id: key,
        title: o.title || 'Untitled event',
        start: o.start,
        end: o.end,
        allDay: o.allDay,
        editable: o.organizer.id === user.id,
        extendedProps: { key },
        className: statusClass(o),
      })),
    [byKey, user.id],
  );

  // Opening an event from a link (a reminder notification, or an event card in a chat).
  const linked = params.get('event');
  const [handledLink, setHandledLink] = useState<string | null>(null);
  if (linked && linked !== handledLink && occurrences.data) {
    setHandledLink(linked);
    const found = occurrences.data.occurrences.find((o) => o.eventId === linked);
    if (found) setTarget({ mode: 'edit', occurrence: found });
  }
  useEffect(() => {
    if (!linked || linked !== handledLink) return;
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        next.delete('event');
        return next;
      },
      { replace: true },
    );
  }, [linked, handledLink, setParams]);
  const linkedDate = params.get('date');
  useEffect(() => {
    if (linkedDate && /^\d{4}-\d{2}-\d{2}$/.test(linkedDate)) {
      calendarRef.current?.getApi().gotoDate(linkedDate);
    }
  }, [linkedDate]);

  const refresh = useCallback(
    () => void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) }),
    [queryClient, user.id],
  );

  async function applyMove(move: PendingMove, scope: CalendarScope) {
    const { occurrence, to } = move;
    setActionError(null);
    try {
      let changes: EventSpan = to;
      if (scope === 'all' && occurrence.rrule) {
        changes = shiftSeries(await calendar.get(occurrence.eventId), occurrence, to);
      }
      const recurring = occurrence.rrule !== null && occurrence.recurrenceId !== null;
      const { conflicts } = await calendar.update(
        occurrence.eventId,
        scope === 'this' ? occurrenceChanges(changes) : changes,
        {
          scope: recurring ? scope : 'all',
          ...(recurring && occurrence.recurrenceId
            ? { recurrenceId: occurrence.recurrenceId }
            : {}),
        },
      );
      setNotice({ message: `Moved “${occurrence.title}”.`, conflicts });
    } catch (error) {
      move.revert();
      setActionError(`Could not move “${occurrence.title}”: ${errorMessage(error)}`);
    }
    refresh();
  }

  function onChange(info: EventChangeInfo) {
    const key = info.event.extendedProps.key as string | undefined;
    const occurrence = key ? byKey.get(key) : undefined;
    const to = spanOf(info.event);
    if (!occurrence || !to) {
      info.revert();
      return;
    }
    const move = { occurrence, to, revert: info.revert };
    if (occurrence.rrule !== null && occurrence.recurrenceId !== null) {
      setMoveScope('this');
      setPendingMove(move);
    } else {
      void applyMove(move, 'all');
    }
  }

  function onSelect(info: DateSelectInfo) {
    calendarRef.current?.getApi().unselect();
    const span: EventSpan = info.allDay
      ? { allDay: true, start: info.startStr.slice(0, 10), end: info.endStr.slice(0, 10) }
      : { allDay: false, start: toInstant(info.startStr), end: toInstant(info.endStr) };
    setTarget({ mode: 'create', span, conversationId: null });
  }

  function newEvent() {
    // The next full hour today (in the calendar's zone), for an hour.
    const now = Date.now();
    const start = Math.ceil(now / 3_600_000) * 3_600_000;
    setTarget({
      mode: 'create',
      span: { allDay: false, start: toInstant(start), end: toInstant(start + 3_600_000) },
      conversationId: null,
    });
  }

  async function exportRange() {
    if (!range) return;
    setActionError(null);
    try {
      const ids = [...new Set((occurrences.data?.occurrences ?? []).map((o) => o.eventId))];
      const series = await Promise.all(ids.map((id) => calendar.get(id)));
      await downloadIcs(series.map(icsFromEvent), icsFileName(`calendar ${title}`));
    } catch (error) {
      setActionError(`Could not export: ${errorMessage(error)}`);
    }
  }

  const api = () => calendarRef.current?.getApi();
  const count = occurrences.data?.occurrences.length ?? 0;
  const rejections = occurrences.data?.rejected ?? [];
  const rejected = rejections.length;

  return (
    <div className="calendar-page">
      <div className="calendar-header">
        <div>
          <PageHeading title="Calendar" />
          <p className="page-subtitle">
            End-to-end encrypted: the server sees when events are, never what they are.
          </p>
        </div>
        <div className="calendar-header-actions">
          <ConversationFilter value={shown} conversations={conversationItems} onChange={setShown} />
          <ZonePicker zone={zone} onChange={setZone} />
          <div className="button-row calendar-header-buttons">
            <button type="button" className="btn btn-secondary" onClick={() => setImporting(true)}>
              Import .ics
            </button>
            <button
              type="button"
              className="btn btn-secondary"
              aria-disabled={count === 0 || undefined}
              onClick={() => count > 0 && void exportRange()}
            >
              Export<span className="calendar-wide-only"> shown range</span>
            </button>
            <button type="button" className="btn btn-primary" onClick={newEvent}>
              New event
            </button>
          </div>
        </div>
      </div>

      <div className="calendar-toolbar" role="toolbar" aria-label="Calendar navigation">
        <div className="button-row">
          <button
            type="button"
            className="btn btn-secondary btn-small"
            onClick={() => api()?.today()}
          >
            Today
          </button>
          <IconButton label="Previous" onClick={() => api()?.prev()}>
            <span aria-hidden="true">‹</span>
          </IconButton>
          <IconButton label="Next" onClick={() => api()?.next()}>
            <span aria-hidden="true">›</span>
          </IconButton>
          <h2 className="calendar-title" aria-live="polite">
            {title}
          </h2>
        </div>
        <div className="calendar-views" role="group" aria-label="View">
          {VIEWS.map((v) => (
            <button
              key={v.name}
              type="button"
              className={`calendar-view-button${view === v.name ? ' active' : ''}`}
              aria-pressed={view === v.name}
              onClick={() => {
                api()?.changeView(v.name);
                setView(v.name);
                saveView(v.name);
              }}
            >
              {v.label}
            </button>
          ))}
        </div>
      </div>

      {notice && (
        <div className="calendar-notice">
          <p role="status" className="form-success">
            {notice.message}
          </p>
          <ConflictWarning conflicts={notice.conflicts} zone={zone} />
        </div>
      )}
      {actionError && <ErrorAlert>{actionError}</ErrorAlert>}
      {occurrences.error && (
        <ErrorAlert onRetry={() => void occurrences.refetch()}>
          Could not load the calendar. {errorMessage(occurrences.error)}
        </ErrorAlert>
      )}
      {rejected > 0 && (
        <div className="warning-box" role="status">
          <p>
            {rejected === 1 ? 'One event' : `${rejected} events`} failed the security check (changed
            by someone other than its organizer, or unreadable on this device) and{' '}
            {rejected === 1 ? 'is' : 'are'} not shown.
          </p>
          <details>
            <summary>What failed</summary>
            <ul>
              {rejections.map((r) => (
                <li key={r.eventId}>
                  Event {r.eventId.slice(0, 8)}: {r.reason}.
                </li>
              ))}
            </ul>
          </details>
        </div>
      )}
      <div className="calendar-status" role="status">
        {occurrences.isFetching && range ? (
          <>
            <span className="spinner spinner-small" aria-hidden="true" /> Loading events…
          </>
        ) : occurrences.isSuccess && count === 0 ? (
          'No events in this range. Drag across the grid, or press New event.'
        ) : (
          ''
        )}
      </div>

      <div className="calendar-frame">
        <FullCalendar
          ref={calendarRef}
          plugins={PLUGINS}
          initialView={savedView}
          headerToolbar={false}
          timeZone={zone}
          // Month and agenda grow with their content; the time grids scroll inside (to 8:00).
          height={view === 'timeGridWeek' || view === 'timeGridDay' ? 720 : 'auto'}
          scrollTime="08:00:00"
          nowIndicator
          selectable
          selectMirror
          editable
          navLinks
          dayMaxEvents
          events={events}
          noEventsText="No events in this range"
          datesSet={(info: DatesSetInfo) => {
            setTitle(info.view.title);
            setView(info.view.type as ViewName);
            setRange((current) =>
              current &&
              current.from.getTime() === info.start.getTime() &&
              current.to.getTime() === info.end.getTime()
                ? current
                : { from: info.start, to: info.end },
            );
          }}
          select={onSelect}
          eventClick={(info: EventClickInfo) => {
            info.jsEvent.preventDefault();
            const key = info.event.extendedProps.key as string | undefined;
            const occurrence = key ? byKey.get(key) : undefined;
            if (occurrence) setTarget({ mode: 'edit', occurrence });
          }}
          eventDrop={onChange}
          eventResize={onChange}
        />
      </div>

      <EventDialog
        target={target}
        zone={zone}
        conversations={conversationItems}
        onClose={() => setTarget(null)}
        onSaved={(message, conflicts) => {
          setTarget(null);
          setNotice({ message, conflicts });
          refresh();
        }}
      />
      <ImportDialog
        open={importing}
        zone={zone}
        conversations={conversationItems}
        onClose={() => setImporting(false)}
        onImported={(message) => {
          setNotice({ message, conflicts: [] });
          refresh();
        }}
      />
      <Dialog
        open={pendingMove !== null}
        onClose={() => {
          pendingMove?.revert();
          setPendingMove(null);
        }}
        title="Move a repeating event"
        description={
          pendingMove
            ? `“${pendingMove.occurrence.title}” repeats. Which occurrences move?`
            : undefined
        }
      >
        <div className="form">
          <fieldset className="calendar-fieldset">
            <legend className="sr-only">Occurrences to move</legend>
            <div className="calendar-choices">
              {(['this', 'following', 'all'] as const).map((scope) => (
                <label key={scope} className="checkbox-field">
                  <input
                    type="radio"
                    name="move-scope"
                    checked={moveScope === scope}
                    onChange={() => setMoveScope(scope)}
                  />
                  {SCOPE_LABELS[scope]}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="dialog-actions">
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => {
                pendingMove?.revert();
                setPendingMove(null);
              }}
            >
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                const move = pendingMove;
                setPendingMove(null);
                if (move) void applyMove(move, moveScope);
              }}
            >
              Move
            </button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}

/**
 * The calendar: month, week, day and agenda views in the user's chosen zone, over the events of
 * every conversation they are in (each decrypted on this device).
 */
export function CalendarPage() {
  return (
    <EncryptionGate>
      <CalendarScreen />
    </EncryptionGate>
  );
}
