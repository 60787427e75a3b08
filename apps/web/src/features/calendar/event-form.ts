import {
  addDays,
  daysBetween,
  instantToLocalInput,
  localInputToInstant,
  shiftInstant,
} from './calendar-time.ts';
import type { CalendarEventInput, CalendarOccurrence } from './types.ts';

/**
 * The event dialog's form state and its translation to the client's calls. Kept apart from the
 * component so the arithmetic (zones, exclusive all-day ends, series shifts) is plain code.
 */

export const REPEAT_PRESETS = [
  { value: 'none', label: 'Does not repeat', rule: null },
  { value: 'daily', label: 'Every day', rule: 'FREQ=DAILY' },
  { value: 'weekdays', label: 'Every weekday (Mon–Fri)', rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' },
  { value: 'weekly', label: 'Every week', rule: 'FREQ=WEEKLY' },
  { value: 'biweekly', label: 'Every two weeks', rule: 'FREQ=WEEKLY;INTERVAL=2' },
  { value: 'monthly', label: 'Every month', rule: 'FREQ=MONTHLY' },
  { value: 'yearly', label: 'Every year', rule: 'FREQ=YEARLY' },
  { value: 'custom', label: 'Custom rule (RRULE)…', rule: null },
] as const;

export type RepeatChoice = (typeof REPEAT_PRESETS)[number]['value'];

export const REMINDER_CHOICES = [
  { minutes: 0, label: 'At the start' },
  { minutes: 5, label: '5 minutes before' },
  { minutes: 10, label: '10 minutes before' },
  { minutes: 30, label: '30 minutes before' },
  { minutes: 60, label: '1 hour before' },
  { minutes: 1440, label: '1 day before' },
] as const;

export interface EventFormState {
  title: string;
  conversationId: string;
  allDay: boolean;
  /** `datetime-local` value for timed events, a date for all-day ones. */
  start: string;
  /** Timed: `datetime-local`; all-day: the LAST day (inclusive, as people read it). */
  end: string;
  timeZone: string;
  repeat: RepeatChoice;
  customRule: string;
  reminders: number[];
  attendees: string[];
  location: string;
  description: string;
  notes: string;
}

/** Where the event lies, in the client's form (instants or dates with an exclusive end). */
export interface EventSpan {
  allDay: boolean;
  start: string;
  end: string;
}

export function repeatOf(rule: string | null): { repeat: RepeatChoice; customRule: string } {
  if (!rule) return { repeat: 'none', customRule: '' };
  const preset = REPEAT_PRESETS.find((p) => p.rule === rule);
  return preset ? { repeat: preset.value, customRule: '' } : { repeat: 'custom', customRule: rule };
}

export function ruleOf(form: Pick<EventFormState, 'repeat' | 'customRule'>): string | null {
  if (form.repeat === 'custom') {
    const rule = form.customRule.trim().replace(/^RRULE:/i, '');
    return rule || null;
  }
  return REPEAT_PRESETS.find((p) => p.value === form.repeat)?.rule ?? null;
}

/** The form's fields for a span shown in `zone`. */
export function spanToFields(span: EventSpan, zone: string): Pick<EventFormState, 'start' | 'end'> {
  if (span.allDay) return { start: span.start, end: addDays(span.end, -1) };
  return { start: instantToLocalInput(span.start, zone), end: instantToLocalInput(span.end, zone) };
}

/** The span the form's fields mean; null when a field is empty or not a valid time. */
export function fieldsToSpan(
  form: Pick<EventFormState, 'allDay' | 'start' | 'end' | 'timeZone'>,
): EventSpan | null {
  try {
    if (form.allDay) {
      const start = form.start.slice(0, 10);
      const last = form.end.slice(0, 10);
      if (!start || !last) return null;
      return { allDay: true, start, end: addDays(last, 1) };
    }
    if (!form.start || !form.end) return null;
    return {
      allDay: false,
      start: localInputToInstant(form.start, form.timeZone),
      end: localInputToInstant(form.end, form.timeZone),
    };
  } catch {
    return null;
  }
}

/** Switching all-day on or off keeps the day(s) and picks sensible times. */
export function toggleAllDay(form: EventFormState, allDay: boolean): EventFormState {
  if (allDay === form.allDay) return form;
  if (allDay) {
    const start = form.start.slice(0, 10);
    const end = form.end.slice(0, 10) || start;
    return { ...form, allDay, start, end: end < start ? start : end };
  }
  const day = form.start.slice(0, 10);
  const last = form.end.slice(0, 10) || day;
  return { ...form, allDay, start: `${day}T09:00`, end: `${last}T10:00` };
}

/** Client-side checks before anything is sent; the server checks again. */
export function validate(form: EventFormState): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  if (!form.title.trim()) errors.title = ['Enter a title.'];
  const span = fieldsToSpan(form);
  if (!span) errors.start = ['Enter a start and an end.'];
  else if (span.allDay ? span.end <= span.start : span.end <= span.start) {
    errors.end = ['The end must be after the start.'];
  }
  if (form.repeat === 'custom' && !/^FREQ=[A-Z]+/i.test(ruleOf(form) ?? '')) {
    errors.rrule = ['A rule starts with FREQ=, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.'];
  }
  return errors;
}

/** The whole input for a new event. */
export function formToInput(form: EventFormState, notesConversation: boolean): CalendarEventInput {
  const span = fieldsToSpan(form)!;
  return {
    ...(notesConversation ? {} : { conversationId: form.conversationId }),
    title: form.title.trim(),
    description: form.description,
    location: form.location,
    notes: form.notes,
    ...span,
    timeZone: form.timeZone,
    rrule: ruleOf(form),
    attendees: form.attendees,
    reminders: [...form.reminders].sort((a, b) => a - b),
  };
}

/**
 * Moves a series so that one occurrence moves from `from` to `to`: the series' first start moves
 * by the same amount, and its length becomes the new occurrence's.
 */
export function shiftSeries(series: EventSpan, from: EventSpan, to: EventSpan): EventSpan {
  if (to.allDay) {
    const days = from.allDay
      ? daysBetween(from.start, to.start)
      : daysBetween(from.start.slice(0, 10), to.start);
    const base = series.allDay ? series.start : series.start.slice(0, 10);
    const start = addDays(base, days);
    return { allDay: true, start, end: addDays(start, daysBetween(to.start, to.end)) };
  }
  if (from.allDay || series.allDay) return to;
  const start = shiftInstant(series.start, Date.parse(to.start) - Date.parse(from.start));
  return {
    allDay: false,
    start,
    end: shiftInstant(start, Date.parse(to.end) - Date.parse(to.start)),
  };
}

/** Fields that may change for one occurrence alone. */
export const OCCURRENCE_FIELDS = [
  'title',
  'description',
  'location',
  'notes',
  'allDay',
  'start',
  'end',
  'timeZone',
] as const;

type Changes = Partial<Omit<CalendarEventInput, 'conversationId'>>;

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Only what the user changed, compared with the occurrence the dialog opened. */
export function changesFrom(occurrence: CalendarOccurrence, input: CalendarEventInput): Changes {
  const changes: Changes = {};
  if (input.title !== occurrence.title) changes.title = input.title;
  if ((input.description ?? '') !== occurrence.description) changes.description = input.description;
  if ((input.location ?? '') !== occurrence.location) changes.location = input.location;
  if ((input.notes ?? '') !== occurrence.notes) changes.notes = input.notes;
  if (
    input.allDay !== occurrence.allDay ||
    input.start !== occurrence.start ||
    input.end !== occurrence.end
  ) {
    changes.allDay = input.allDay;
    changes.start = input.start;
    changes.end = input.end;
  }
  if (input.timeZone !== occurrence.timeZone) changes.timeZone = input.timeZone;
  if ((input.rrule ?? null) !== occurrence.rrule) changes.rrule = input.rrule ?? null;
  const attendees = [...(input.attendees ?? [])].sort();
  if (!sameList(attendees, occurrence.attendees.map((a) => a.userId).sort())) {
    changes.attendees = attendees;
  }
  const reminders = [...(input.reminders ?? [])].sort((a, b) => a - b);
  if (
    !sameList(
      reminders,
      [...occurrence.reminders].sort((a, b) => a - b),
    )
  ) {
    changes.reminders = reminders;
  }
  return changes;
}

/** Keeps only the fields that apply to one occurrence. */
export function occurrenceChanges(changes: Changes): Changes {
  const kept: Record<string, unknown> = {};
  for (const field of OCCURRENCE_FIELDS) {
    if (field in changes) kept[field] = changes[field];
  }
  return kept as Changes;
}
