import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ConversationSummary } from '@securechat/client';
import { Dialog } from '../../components/dialog.tsx';
import { FormField } from '../../components/form-field.tsx';
import { ErrorAlert } from '../../components/status.tsx';
import { SubmitButton } from '../../components/submit-button.tsx';
import { errorMessage } from '../../lib/api-errors.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { useReadyE2ee } from '../e2ee/e2ee-context.ts';
import { formatWhen } from './calendar-time.ts';
import { ZoneOptions } from './zone-options.tsx';
import {
  REMINDER_CHOICES,
  REPEAT_PRESETS,
  changesFrom,
  fieldsToSpan,
  formToInput,
  occurrenceChanges,
  repeatOf,
  shiftSeries,
  spanToFields,
  toggleAllDay,
  validate,
  type EventFormState,
  type EventSpan,
  type RepeatChoice,
} from './event-form.ts';
import { downloadIcs } from './ics-files.ts';
import { icsFromEvent, icsFileName, MAX_REMINDERS } from './ics-model.ts';
import { calendarKeys } from './use-calendar.ts';
import type {
  CalendarAttendee,
  CalendarConflict,
  CalendarOccurrence,
  CalendarScope,
  RsvpStatus,
} from './types.ts';

/** What the dialog is opened for. */
export type EventDialogTarget =
  | { mode: 'create'; span: EventSpan; conversationId: string | null }
  | { mode: 'edit'; occurrence: CalendarOccurrence };

export const RSVP_LABELS: Record<RsvpStatus, string> = {
  accepted: 'Going',
  tentative: 'Maybe',
  declined: 'Not going',
  'needs-action': 'Not answered',
};

/**
 * An attendee's answer after their name: "· Going: “comment”", and "(this occurrence)" when it is
 * their answer for the occurrence shown rather than for the whole series.
 */
function RsvpNote({
  answer,
  recurrenceId,
}: {
  answer: CalendarAttendee;
  recurrenceId: string | null | undefined;
}) {
  const own = answer.occurrences.some((o) => o.recurrenceId === recurrenceId);
  return (
    <span className="calendar-rsvp-note">
      · {RSVP_LABELS[answer.status]}
      {own ? ' (this occurrence)' : ''}
      {answer.comment ? `: “${answer.comment}”` : ''}
    </span>
  );
}

export const SCOPE_LABELS: Record<CalendarScope, string> = {
  this: 'This occurrence',
  following: 'This and following',
  all: 'All occurrences',
};

/** Radio buttons asking which occurrences of a recurring event a change applies to. */
export function ScopeChoice<Scope extends CalendarScope>({
  value,
  onChange,
  legend = 'Apply to',
  scopes = ['this', 'following', 'all'] as Scope[],
}: {
  value: Scope;
  onChange: (scope: Scope) => void;
  legend?: string;
  scopes?: readonly Scope[];
}) {
  const name = useId();
  return (
    <fieldset className="calendar-fieldset">
      <legend className="field-label">{legend}</legend>
      <div className="calendar-choices">
        {scopes.map((scope) => (
          <label key={scope} className="checkbox-field">
            <input
              type="radio"
              name={name}
              value={scope}
              checked={value === scope}
              onChange={() => onChange(scope)}
            />
            {SCOPE_LABELS[scope]}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function Select({
  label,
  value,
  onChange,
  children,
  disabled,
  errors,
  hint,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
  disabled?: boolean;
  errors?: readonly string[] | undefined;
  hint?: string;
}) {
  const id = useId();
  const error = errors?.[0];
  return (
    <div className={['field', error ? 'field-invalid' : null].filter(Boolean).join(' ')}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select
        id={id}
        className="field-input"
        value={value}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
        onChange={(event) => onChange(event.target.value)}
      >
        {children}
      </select>
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
      {hint && !error && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

function TextArea({
  label,
  value,
  onChange,
  hint,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <textarea
        id={id}
        className="field-input calendar-textarea"
        rows={3}
        value={value}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/**
 * Who among the invited is busy at the proposed time (free/busy: times only, no content), so a
 * clash shows before the invitation or the move goes out.
 */
function BusyHint({
  span,
  attendees,
  names,
  excludeEventId,
}: {
  span: EventSpan | null;
  attendees: string[];
  names: Map<string, string>;
  /** The event being moved: its own times do not count as busy. */
  excludeEventId?: string;
}) {
  const { client, user } = useReadyE2ee();
  const ids = [...attendees].sort();
  const valid = span !== null && span.end > span.start && ids.length > 0;
  const from = span ? (span.allDay ? `${span.start}T00:00:00Z` : span.start) : '';
  const to = span ? (span.allDay ? `${span.end}T00:00:00Z` : span.end) : '';
  const busy = useQuery({
    queryKey: [...calendarKeys.all(user.id), 'free-busy', ids.join(','), from, to, excludeEventId],
    queryFn: () =>
      client.calendar.freeBusy(
        ids,
        { from: new Date(from), to: new Date(to) },
        excludeEventId ? { excludeEventId } : {},
      ),
    enabled: valid,
    staleTime: 30_000,
  });
  if (!valid || !busy.data) return null;
  const start = Date.parse(from);
  const end = Date.parse(to);
  const taken = busy.data
    .filter((row) => row.busy.some((b) => b.start.getTime() < end && b.end.getTime() > start))
    .map((row) => names.get(row.userId) ?? 'Someone');
  if (taken.length === 0) return <p className="field-hint">Everyone invited is free then.</p>;
  return (
    <p className="field-hint calendar-busy" role="status">
      Busy then: {taken.join(', ')}
    </p>
  );
}

/** Overlapping events the server reported after a save. */
export function ConflictWarning({
  conflicts,
  zone,
}: {
  conflicts: CalendarConflict[];
  zone: string;
}) {
  if (conflicts.length === 0) return null;
  return (
    <div className="warning-box" role="status">
      <div>
        <p>
          <strong>
            This overlaps with{' '}
            {conflicts.length === 1 ? 'another event' : `${conflicts.length} other events`}
          </strong>{' '}
          on your calendar:
        </p>
        <ul className="warning-list">
          {conflicts.map((conflict) => (
            <li key={`${conflict.eventId}-${conflict.start}`}>
              {conflict.title ?? 'An event this device cannot read'} (
              {formatWhen({ allDay: false, start: conflict.start, end: conflict.end }, zone)})
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

function initialForm(
  target: EventDialogTarget,
  zone: string,
  conversations: ConversationSummary[],
): EventFormState {
  if (target.mode === 'create') {
    const notes = conversations.find((c) => c.kind === 'notes');
    return {
      title: '',
      // '' stands for the notes conversation before it exists (the server makes it on demand).
      conversationId: target.conversationId ?? notes?.id ?? '',
      allDay: target.span.allDay,
      ...spanToFields(target.span, zone),
      timeZone: zone,
      repeat: 'none',
      customRule: '',
      reminders: target.span.allDay ? [] : [10],
      attendees: [],
      location: '',
      description: '',
      notes: '',
    };
  }
  const o = target.occurrence;
  return {
    title: o.title,
    conversationId: o.conversationId,
    allDay: o.allDay,
    ...spanToFields(o, o.allDay ? zone : o.timeZone),
    timeZone: o.timeZone,
    ...repeatOf(o.rrule),
    reminders: [...o.reminders],
    attendees: o.attendees.map((a) => a.userId),
    location: o.location,
    description: o.description,
    notes: o.notes,
  };
}

/** What the dialog and each of its panes take: the zone shown, the conversations, and the exits. */
interface EventPaneProps {
  zone: string;
  conversations: ConversationSummary[];
  onClose: () => void;
  onSaved: (message: string, conflicts: CalendarConflict[]) => void;
}

/**
 * Creating and editing an event: every field of the model, attendees picked from the chosen
 * conversation's members, and for a recurring event which occurrences a change applies to.
 * Someone invited sees the event and answers it (RSVP) instead.
 */
export function EventDialog({
  target,
  ...pane
}: EventPaneProps & { target: EventDialogTarget | null }) {
  const { user } = useReadyE2ee();
  const title =
    target?.mode === 'create'
      ? 'New event'
      : target && target.occurrence.organizer.id !== user.id
        ? 'Event'
        : 'Edit event';
  return (
    <Dialog open={target !== null} onClose={pane.onClose} title={title} size="wide">
      {target &&
        (target.mode === 'edit' && target.occurrence.organizer.id !== user.id ? (
          <EventDetails occurrence={target.occurrence} {...pane} />
        ) : (
          <EventForm target={target} {...pane} />
        ))}
    </Dialog>
  );
}

function EventForm({
  target,
  zone,
  conversations,
  onClose,
  onSaved,
}: EventPaneProps & { target: EventDialogTarget }) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const { errors, setErrors, setFromError, clearField } = useFormErrors(formRef);
  const [form, setForm] = useState(() => initialForm(target, zone, conversations));
  const occurrence = target.mode === 'edit' ? target.occurrence : null;
  const recurring = occurrence?.rrule != null && occurrence.recurrenceId !== null;
  const [scope, setScope] = useState<CalendarScope>(recurring ? 'this' : 'all');
  const [pending, setPending] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const conversation = conversations.find((c) => c.id === form.conversationId);
  const members = (conversation?.members ?? []).filter((m) => m.id !== user.id);
  const calendar = client.calendar;

  function update(change: Partial<EventFormState>) {
    for (const key of Object.keys(change)) clearField(key);
    setForm((current) => ({ ...current, ...change }));
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const problems = validate(form);
    if (Object.keys(problems).length > 0) {
      setErrors({ fields: problems, message: null });
      return;
    }
    const input = formToInput(form, !conversation || conversation.kind === 'notes');
    setPending(true);
    try {
      if (!occurrence) {
        const { conflicts } = await calendar.create(input);
        onSaved(`Created “${input.title}”.`, conflicts);
      } else {
        let changes = changesFrom(occurrence, input);
        if (Object.keys(changes).length === 0) {
          onClose();
          return;
        }
        const recurrenceId = occurrence.recurrenceId ?? undefined;
        if (recurring && scope === 'this') changes = occurrenceChanges(changes);
        if (recurring && scope === 'all' && changes.start) {
          // The dialog shows one occurrence; "all" moves the series by as much.
          const series = await calendar.get(occurrence.eventId);
          const moved = shiftSeries(series, occurrence, {
            allDay: input.allDay,
            start: input.start,
            end: input.end,
          });
          changes = { ...changes, ...moved };
        }
        const { conflicts } = await calendar.update(occurrence.eventId, changes, {
          scope: recurring ? scope : 'all',
          ...(recurring && recurrenceId ? { recurrenceId } : {}),
        });
        onSaved(`Saved “${input.title}”.`, conflicts);
      }
      void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) });
    } catch (error) {
      setFromError(error);
    } finally {
      setPending(false);
    }
  }

  async function remove() {
    if (!occurrence || pending) return;
    setPending(true);
    try {
      await calendar.delete(occurrence.eventId, {
        scope: recurring ? scope : 'all',
        ...(recurring && occurrence.recurrenceId ? { recurrenceId: occurrence.recurrenceId } : {}),
      });
      void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) });
      onSaved(`Deleted “${occurrence.title}”.`, []);
    } catch (error) {
      setFromError(error);
      setConfirmDelete(false);
    } finally {
      setPending(false);
    }
  }

  const span = fieldsToSpan(form);
  return (
    <form ref={formRef} className="form calendar-form" noValidate onSubmit={(e) => void save(e)}>
      <FormField
        label="Title"
        name="title"
        value={form.title}
        required
        autoFocus
        maxLength={500}
        errors={errors.fields.title}
        onChange={(e) => update({ title: e.target.value })}
      />
      <Select
        label="Conversation"
        value={form.conversationId}
        disabled={occurrence !== null}
        errors={errors.fields.conversationId}
        hint={
          !conversation || conversation.kind === 'notes'
            ? 'Private: only you can see it.'
            : 'Everyone in this conversation can see it; the server cannot.'
        }
        onChange={(conversationId) => update({ conversationId, attendees: [] })}
      >
        {!conversations.some((c) => c.kind === 'notes') && (
          <option value="">Only me (private)</option>
        )}
        {conversations.map((c) => (
          <option key={c.id} value={c.id}>
            {c.kind === 'notes' ? 'Only me (private)' : c.title}
          </option>
        ))}
      </Select>
      <label className="checkbox-field">
        <input
          type="checkbox"
          checked={form.allDay}
          onChange={(e) => setForm((current) => toggleAllDay(current, e.target.checked))}
        />
        All day
      </label>
      <div className="calendar-form-row">
        <FormField
          label={form.allDay ? 'First day' : 'Starts'}
          name="start"
          type={form.allDay ? 'date' : 'datetime-local'}
          value={form.start}
          required
          errors={errors.fields.start}
          onChange={(e) => update({ start: e.target.value })}
        />
        <FormField
          label={form.allDay ? 'Last day' : 'Ends'}
          name="end"
          type={form.allDay ? 'date' : 'datetime-local'}
          value={form.end}
          required
          errors={errors.fields.end}
          onChange={(e) => update({ end: e.target.value })}
        />
      </div>
      {!form.allDay && (
        <Select
          label="Event time zone"
          value={form.timeZone}
          errors={errors.fields.timeZone}
          hint={
            span && form.timeZone !== zone
              ? `In your calendar’s zone (${zone}): ${formatWhen(span, zone)}`
              : 'Repeats follow this zone’s clock, also across daylight saving changes.'
          }
          onChange={(timeZone) => update({ timeZone })}
        >
          <ZoneOptions current={form.timeZone} />
        </Select>
      )}
      <Select
        label="Repeat"
        value={form.repeat}
        errors={form.repeat === 'custom' ? undefined : errors.fields.rrule}
        disabled={recurring && scope === 'this'}
        onChange={(repeat) => update({ repeat: repeat as RepeatChoice })}
      >
        {REPEAT_PRESETS.map((preset) => (
          <option key={preset.value} value={preset.value}>
            {preset.label}
          </option>
        ))}
      </Select>
      {form.repeat === 'custom' && (
        <FormField
          label="Recurrence rule"
          name="rrule"
          value={form.customRule}
          placeholder="FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20271231T235959Z"
          hint="An RFC 5545 RRULE: FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT or UNTIL…"
          errors={errors.fields.rrule}
          onChange={(e) => update({ customRule: e.target.value })}
        />
      )}
      <fieldset className="calendar-fieldset" disabled={recurring && scope === 'this'}>
        <legend className="field-label">Reminders</legend>
        <div className="calendar-choices">
          {REMINDER_CHOICES.map((choice) => (
            <label key={choice.minutes} className="checkbox-field">
              <input
                type="checkbox"
                checked={form.reminders.includes(choice.minutes)}
                disabled={
                  !form.reminders.includes(choice.minutes) && form.reminders.length >= MAX_REMINDERS
                }
                onChange={(e) =>
                  update({
                    reminders: e.target.checked
                      ? [...form.reminders, choice.minutes]
                      : form.reminders.filter((m) => m !== choice.minutes),
                  })
                }
              />
              {choice.label}
            </label>
          ))}
        </div>
        {errors.fields.reminders && <p className="field-error">{errors.fields.reminders[0]}</p>}
      </fieldset>
      {conversation && conversation.kind !== 'notes' && (
        <fieldset className="calendar-fieldset" disabled={recurring && scope === 'this'}>
          <legend className="field-label">Invite</legend>
          {members.length === 0 ? (
            <p className="field-hint">Nobody else is in this conversation.</p>
          ) : (
            <div className="calendar-choices">
              {members.map((member) => {
                const answer = occurrence?.attendees.find((a) => a.userId === member.id);
                return (
                  <label key={member.id} className="checkbox-field">
                    <input
                      type="checkbox"
                      checked={form.attendees.includes(member.id)}
                      onChange={(e) =>
                        update({
                          attendees: e.target.checked
                            ? [...form.attendees, member.id]
                            : form.attendees.filter((id) => id !== member.id),
                        })
                      }
                    />
                    <span>
                      {member.username}
                      {answer && (
                        <>
                          {' '}
                          <RsvpNote answer={answer} recurrenceId={occurrence?.recurrenceId} />
                        </>
                      )}
                    </span>
                  </label>
                );
              })}
            </div>
          )}
          {errors.fields.attendees && <p className="field-error">{errors.fields.attendees[0]}</p>}
          <BusyHint
            span={span}
            attendees={form.attendees}
            names={new Map(members.map((m) => [m.id, m.username]))}
            {...(occurrence ? { excludeEventId: occurrence.eventId } : {})}
          />
        </fieldset>
      )}
      <FormField
        label="Location"
        name="location"
        value={form.location}
        maxLength={500}
        onChange={(e) => update({ location: e.target.value })}
      />
      <TextArea
        label="Description"
        value={form.description}
        onChange={(description) => update({ description })}
      />
      <TextArea
        label="Notes"
        value={form.notes}
        hint="Encrypted like everything above, for the people who can see the event."
        onChange={(notes) => update({ notes })}
      />
      {recurring && <ScopeChoice value={scope} onChange={setScope} />}
      {errors.message && <ErrorAlert>{errors.message}</ErrorAlert>}
      {confirmDelete ? (
        <div className="warning-box" role="alert">
          <div>
            <p>
              Delete {recurring ? SCOPE_LABELS[scope].toLowerCase() : 'this event'} for everyone in
              the conversation?
            </p>
            <div className="button-row">
              <button
                type="button"
                className="btn btn-secondary btn-small"
                onClick={() => setConfirmDelete(false)}
              >
                Keep it
              </button>
              <button
                type="button"
                className="btn btn-danger-solid btn-small"
                aria-disabled={pending || undefined}
                onClick={() => void remove()}
              >
                Delete event
              </button>
            </div>
          </div>
        </div>
      ) : null}
      <div className="dialog-actions">
        {occurrence && (
          <>
            <button
              type="button"
              className="btn btn-danger calendar-action-start"
              onClick={() => setConfirmDelete(true)}
            >
              Delete…
            </button>
            <ExportEventButton eventId={occurrence.eventId} title={occurrence.title} />
          </>
        )}
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <SubmitButton pending={pending} pendingLabel="Saving the event">
          {occurrence ? 'Save' : 'Create event'}
        </SubmitButton>
      </div>
    </form>
  );
}

/** Downloads one event (its whole series, with changed occurrences) as an .ics file. */
function ExportEventButton({ eventId, title }: { eventId: string; title: string }) {
  const { client } = useReadyE2ee();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="btn btn-secondary"
        onClick={() => {
          setError(null);
          client.calendar
            .get(eventId)
            .then((event) => downloadIcs([icsFromEvent(event)], icsFileName(title)))
            .catch((failure: unknown) => setError(errorMessage(failure)));
        }}
      >
        Download .ics
      </button>
      {error && <ErrorAlert>{error}</ErrorAlert>}
    </>
  );
}

/** An event someone else organizes: what it is, who comes, and my answer. */
function EventDetails({
  occurrence,
  zone,
  conversations,
  onClose,
  onSaved,
}: EventPaneProps & { occurrence: CalendarOccurrence }) {
  const { client, user } = useReadyE2ee();
  const queryClient = useQueryClient();
  // My answer for this occurrence: its own, or the one for the series.
  const mine = occurrence.attendees.find((a) => a.userId === user.id);
  const { recurrenceId } = occurrence;
  const [answerFor, setAnswerFor] = useState<'this' | 'all'>(() =>
    mine?.occurrences.some((o) => o.recurrenceId === recurrenceId) ? 'this' : 'all',
  );
  const [comment, setComment] = useState(mine?.comment ?? '');
  const [pending, setPending] = useState<RsvpStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const conversation = conversations.find((c) => c.id === occurrence.conversationId);

  async function answer(status: RsvpStatus) {
    if (pending) return;
    setPending(status);
    setError(null);
    try {
      const one = recurrenceId !== null && answerFor === 'this';
      const { conflicts } = await client.calendar.rsvp(occurrence.eventId, status, {
        ...(comment.trim() ? { comment: comment.trim() } : {}),
        ...(one ? { recurrenceId } : {}),
      });
      void queryClient.invalidateQueries({ queryKey: calendarKeys.all(user.id) });
      onSaved(
        `Answered “${RSVP_LABELS[status]}” to “${occurrence.title}”${
          one ? ` on ${formatWhen(occurrence, zone)}` : recurrenceId !== null ? ', every time' : ''
        }.`,
        conflicts,
      );
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="form calendar-form">
      <div className="calendar-details">
        <h3 className="calendar-details-title">{occurrence.title}</h3>
        <p>{formatWhen(occurrence, zone)}</p>
        {occurrence.rrule && <p className="field-hint">Repeats ({occurrence.rrule})</p>}
        {occurrence.location && <p>📍 {occurrence.location}</p>}
        <p className="field-hint">
          Organized by {occurrence.organizer.username}
          {/* A direct conversation's title is the organizer's name: saying it twice adds nothing. */}
          {conversation && conversation.kind !== 'direct' ? ` in ${conversation.title}` : ''}
        </p>
        {occurrence.description && (
          <p className="calendar-details-text">{occurrence.description}</p>
        )}
        {occurrence.notes && (
          <p className="calendar-details-text">
            <strong>Notes:</strong> {occurrence.notes}
          </p>
        )}
        <h4 className="field-label calendar-guests-heading">Guests</h4>
        <ul className="calendar-guests" aria-label="Guests">
          <li>
            {occurrence.organizer.username} <span className="calendar-rsvp-note">· organizer</span>
          </li>
          {occurrence.attendees.map((a) => (
            <li key={a.userId}>
              {a.userId === user.id ? 'You' : a.username}{' '}
              <RsvpNote answer={a} recurrenceId={occurrence.recurrenceId} />
            </li>
          ))}
        </ul>
      </div>
      {mine ? (
        <>
          <TextArea
            label="Comment with your answer (optional)"
            value={comment}
            hint="Encrypted; the people who can see the event read it."
            onChange={setComment}
          />
          {recurrenceId !== null && (
            <ScopeChoice
              legend="Answer for"
              scopes={['this', 'all'] as const}
              value={answerFor}
              onChange={setAnswerFor}
            />
          )}
          <div className="button-row" role="group" aria-label="Your answer">
            {(['accepted', 'tentative', 'declined'] as const).map((status) => (
              <button
                key={status}
                type="button"
                className={`btn ${mine.status === status ? 'btn-primary' : 'btn-secondary'}`}
                aria-pressed={mine.status === status}
                aria-disabled={pending !== null || undefined}
                onClick={() => void answer(status)}
              >
                {pending === status && (
                  <span className="spinner spinner-small" aria-hidden="true" />
                )}
                {RSVP_LABELS[status]}
              </button>
            ))}
          </div>
        </>
      ) : (
        <p className="field-hint">
          You are not invited to this event; you see it as a member of the conversation.
        </p>
      )}
      {error && <ErrorAlert>{error}</ErrorAlert>}
      <div className="dialog-actions">
        <ExportEventButton eventId={occurrence.eventId} title={occurrence.title} />
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
