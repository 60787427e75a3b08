import {
  answeredOccurrences,
  calendarEventById,
  calendarEventsInRange,
  changeCalendarEvent,
  contactsOf,
  createCalendarEvent,
  overridesOf,
  setCalendarRsvp,
  type CalendarChangeInput,
  type CalendarEventRow,
  type CalendarWriteResult,
} from '@securechat/db';
import { DomainError, conflict, invalidField, notFound } from '../../errors.ts';
import { publishEvents } from '../../events/publish.ts';
import { router } from '../../trpc/init.ts';
import { authedProcedure } from '../../trpc/procedures.ts';
import { requireMember, type AuthedContext } from '../access.ts';
import {
  byIdInput,
  checkRange,
  checkSeries,
  checkTimes,
  createInput,
  deleteInput,
  freeBusyInput,
  listInput,
  rsvpInput,
  updateInput,
  validRecurrenceId,
  type DeleteInput,
  type MovedOverridesInput,
  type OverrideInput,
  type SeriesInput,
  type UpdateInput,
} from './calendar.schema.ts';
import {
  busyIntervals,
  conflictsFor,
  mergeIntervals,
  occurrencesOf,
  toEventDtos,
} from './calendar.service.ts';
import { isOccurrenceOf, seriesSpan, shiftedBy } from './recurrence.ts';

const MAX_LISTED_OCCURRENCES = 5000;

/** Turns a refused write into the error the caller sees. */
function refused(result: Extract<CalendarWriteResult, { ok: false }>): never {
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such event');
    case 'not_organizer':
      throw new DomainError('forbidden', 'Only the organizer can change this event');
    case 'not_attendee':
      throw new DomainError('forbidden', 'You are not invited to this event');
    case 'stale':
      throw new DomainError('stale', 'The event changed meanwhile: load it again');
    case 'bad_content':
      throw invalidField(
        'contentRef',
        "The event's encrypted content must be a message of yours in its conversation",
      );
    case 'attendee_not_member':
      throw invalidField('attendees', 'Attendees must be members of the conversation');
    case 'exists':
      throw conflict('An event with this id already exists');
  }
}

/** The event, if the caller may see it (a member of its conversation); NOT_FOUND otherwise. */
function visibleEvent(ctx: AuthedContext, eventId: string): CalendarEventRow {
  const row = calendarEventById(ctx.deps.db, eventId);
  if (!row || row.deletedAt !== null) throw notFound('No such event');
  try {
    requireMember(ctx, row.conversationId);
  } catch {
    throw notFound('No such event');
  }
  return row;
}

/** A series revision ready to store: checked, with the bounds of its occurrences. */
function seriesWrite(
  series: SeriesInput,
  organizerId: string,
  overrides: {
    recurrenceId: string;
    allDay: boolean;
    start: string;
    end: string;
    timeZone: string;
  }[] = [],
) {
  checkSeries(series, organizerId);
  return { ...series, ...seriesSpan(series, overrides) };
}

/** The occurrence must be one the series generates (and not left out). */
function requireOccurrence(
  row: CalendarEventRow,
  recurrenceId: string | undefined,
  singleEvent = { field: 'scope', message: 'A single event changes as a whole: use "all"' },
): string {
  if (!row.rrule) throw invalidField(singleEvent.field, singleEvent.message);
  if (
    recurrenceId === undefined ||
    !validRecurrenceId(row.allDay, recurrenceId) ||
    row.exdates.includes(recurrenceId) ||
    !isOccurrenceOf(row, recurrenceId)
  ) {
    throw invalidField('recurrenceId', 'Not an occurrence of this event');
  }
  return recurrenceId;
}

/**
 * Checks occurrences re-signed where they moved: each from a distinct existing override, to a
 * recurrence id in the series' format, at valid times. Returns the recurrence ids they moved from.
 */
function checkMoved(
  field: string,
  moved: MovedOverridesInput,
  existing: { recurrenceId: string }[],
  allDay: boolean,
): Set<string> {
  const from = new Set<string>();
  for (const [i, m] of moved.entries()) {
    if (from.has(m.from) || !existing.some((o) => o.recurrenceId === m.from))
      throw invalidField(`${field}.${i}.from`, 'Not an occurrence changed on its own');
    from.add(m.from);
    if (!validRecurrenceId(allDay, m.override.recurrenceId))
      throw invalidField(`${field}.${i}.override.recurrenceId`, 'Not a recurrence id');
    checkTimes(m.override);
  }
  return from;
}

/**
 * The moved occurrences that fall on an occurrence of the series (the rest are dropped); no two
 * of them, nor one and a `kept` override, may land on the same one.
 */
function onlyOn(
  series: SeriesInput,
  field: string,
  moved: MovedOverridesInput,
  kept: { recurrenceId: string }[] = [],
): OverrideInput[] {
  const onSeries = occursIn(series);
  const added = moved.map((m) => m.override).filter((o) => onSeries(o.recurrenceId));
  const ids = [...kept, ...added].map((o) => o.recurrenceId);
  if (new Set(ids).size !== ids.length)
    throw invalidField(field, 'Two occurrences would move to the same time');
  return added;
}

/** Whether a recurrence id names an occurrence of a series (one not left out). */
function occursIn(series: SeriesInput): (recurrenceId: string) => boolean {
  return (recurrenceId) =>
    validRecurrenceId(series.allDay, recurrenceId) &&
    !series.exdates.includes(recurrenceId) &&
    isOccurrenceOf(series, recurrenceId);
}

function requirePart<T>(value: T | undefined, field: string, message: string): T {
  if (value === undefined) throw invalidField(field, message);
  return value;
}

function applyChange(ctx: AuthedContext, change: CalendarChangeInput): void {
  const { db, hub, reminders } = ctx.deps;
  const result = changeCalendarEvent(db, change, new Date());
  if (!result.ok) refused(result);
  publishEvents(db, hub, result.events);
  reminders?.changed(change.split ? [change.eventId, change.split.id] : [change.eventId]);
}

/**
 * A new revision of the whole series. Occurrences changed on their own move to the recurrence ids
 * the client re-signed them under; any override, moved or kept, that no longer falls on an
 * occurrence of the new series is dropped, so none is left behind unmatched. When the series'
 * start moves, the attendees' answers for single occurrences move as far (the organizer's
 * revision signs where each went); answers left off the series are dropped.
 */
function wholeSeriesChange(
  ctx: AuthedContext,
  row: CalendarEventRow,
  series: SeriesInput,
  existing: {
    recurrenceId: string;
    allDay: boolean;
    start: string;
    end: string;
    timeZone: string;
  }[],
  moved: MovedOverridesInput,
): Pick<CalendarChangeInput, 'series' | 'replaceOverrides' | 'moveAnswers' | 'dropAnswers'> {
  const from = checkMoved('movedOverrides', moved, existing, series.allDay);
  const onSeries = occursIn(series);
  const kept = existing.filter((o) => !from.has(o.recurrenceId) && onSeries(o.recurrenceId));
  const added = onlyOn(series, 'movedOverrides', moved, kept);
  // Checked before its times are used.
  const write = seriesWrite(series, ctx.user.id, [...kept, ...added]);
  const answered = answeredOccurrences(ctx.deps.db, row.id);
  const moveTo =
    row.rrule && series.allDay === row.allDay && series.start !== row.start
      ? shiftedBy(row.start, series.start, series.allDay)
      : null;
  return {
    series: write,
    replaceOverrides: {
      drop: existing.filter((o) => !kept.includes(o)).map((o) => o.recurrenceId),
      add: added,
    },
    ...(moveTo
      ? {
          moveAnswers: answered
            .map((from) => ({ from, to: moveTo(from) }))
            .filter((m) => onSeries(m.to)),
        }
      : // Attendees answered for occurrences at their times: those no longer on the series go.
        { dropAnswers: answered.filter((id) => !onSeries(id)) }),
  };
}

function updateChange(ctx: AuthedContext, input: UpdateInput): CalendarChangeInput {
  const row = visibleEvent(ctx, input.eventId);
  const base = { eventId: row.id, userId: ctx.user.id, expectedRevision: input.expectedRevision };
  const existing = overridesOf(ctx.deps.db, [row.id]).get(row.id) ?? [];
  switch (input.scope) {
    case 'all': {
      const series = requirePart(input.series, 'series', 'The new revision is required');
      return {
        ...base,
        ...wholeSeriesChange(ctx, row, series, existing, input.movedOverrides ?? []),
      };
    }
    case 'this': {
      const recurrenceId = requireOccurrence(row, input.recurrenceId);
      const override = requirePart(
        input.override,
        'override',
        "The occurrence's revision is required",
      );
      if (override.recurrenceId !== recurrenceId)
        throw invalidField('recurrenceId', 'The override is for another occurrence');
      checkTimes(override);
      const others = existing.filter((o) => o.recurrenceId !== recurrenceId);
      return { ...base, override, span: seriesSpan(row, [...others, override]) };
    }
    case 'following': {
      const recurrenceId = requireOccurrence(row, input.recurrenceId);
      const series = requirePart(input.series, 'series', 'The shortened series is required');
      const split = requirePart(input.split, 'split', 'The new series is required');
      if (split.series.revision !== 1)
        throw invalidField('revision', 'A new event starts at revision 1');
      const kept = existing.filter((o) => o.recurrenceId < recurrenceId);
      const moved = split.overrides ?? [];
      checkMoved(
        'split.overrides',
        moved,
        existing.filter((o) => o.recurrenceId >= recurrenceId),
        split.series.allDay,
      );
      for (const [i, m] of moved.entries())
        if (m.override.revision !== 1)
          throw invalidField(
            `split.overrides.${i}.override.revision`,
            "A new event's occurrence starts at revision 1",
          );
      const overrides = onlyOn(split.series, 'split.overrides', moved);
      // Both revisions are checked before their times are used.
      const shortened = seriesWrite(series, ctx.user.id, kept);
      const splitSeries = seriesWrite(split.series, ctx.user.id, overrides);
      // The attendees' answers from the split on go to the new series, each as far as its start
      // moved from the occurrence it splits at (where that is still an occurrence of it).
      const moveTo =
        split.series.allDay === row.allDay
          ? shiftedBy(recurrenceId, split.series.start, row.allDay)
          : null;
      const onSplit = occursIn(split.series);
      const answerMoves = moveTo
        ? answeredOccurrences(ctx.deps.db, row.id)
            .filter((id) => id >= recurrenceId)
            .map((from) => ({ from, to: moveTo(from) }))
            .filter((m) => onSplit(m.to))
        : [];
      return {
        ...base,
        series: shortened,
        dropOverridesFrom: recurrenceId,
        split: {
          id: split.eventId,
          series: splitSeries,
          overrides,
          answerMoves,
        },
      };
    }
  }
}

function deleteChange(ctx: AuthedContext, input: DeleteInput): CalendarChangeInput {
  const row = visibleEvent(ctx, input.eventId);
  const base = { eventId: row.id, userId: ctx.user.id, expectedRevision: input.expectedRevision };
  if (input.scope === 'all') return { ...base, delete: true };
  const recurrenceId = requireOccurrence(row, input.recurrenceId);
  const series = requirePart(input.series, 'series', 'The changed series is required');
  const existing = (overridesOf(ctx.deps.db, [row.id]).get(row.id) ?? []).filter((o) =>
    input.scope === 'this' ? o.recurrenceId !== recurrenceId : o.recurrenceId < recurrenceId,
  );
  if (input.scope === 'this') {
    if (!series.exdates.includes(recurrenceId))
      throw invalidField('exdates', 'The deleted occurrence must be among the exceptions');
    return {
      ...base,
      series: seriesWrite(series, ctx.user.id, existing),
      dropOverride: recurrenceId,
    };
  }
  return {
    ...base,
    series: seriesWrite(series, ctx.user.id, existing),
    dropOverridesFrom: recurrenceId,
  };
}

/** The caller's conflicts with an event (or one occurrence of it) they organize or accepted. */
function conflictsWith(ctx: AuthedContext, eventId: string, recurrenceId?: string) {
  const row = calendarEventById(ctx.deps.db, eventId);
  if (!row) return [];
  const overrides = overridesOf(ctx.deps.db, [row.id]).get(row.id) ?? [];
  return conflictsFor(ctx.deps.db, ctx.user.id, row, overrides, Date.now(), recurrenceId);
}

export const calendarRouter = router({
  /**
   * Creates an event in a conversation the caller is in. Its content must already be sent to
   * that conversation as an encrypted calendar message (`series.contentRef`). Returns the
   * caller's other events that overlap it.
   */
  create: authedProcedure.input(createInput).mutation(({ ctx, input }) => {
    requireMember(ctx, input.conversationId);
    if (input.series.revision !== 1)
      throw invalidField('revision', 'A new event starts at revision 1');
    const series = seriesWrite(input.series, ctx.user.id);
    const { db, hub, reminders } = ctx.deps;
    const result = createCalendarEvent(
      db,
      {
        id: input.eventId,
        conversationId: input.conversationId,
        organizerId: ctx.user.id,
        series,
      },
      new Date(),
    );
    if (!result.ok) refused(result);
    publishEvents(db, hub, result.events);
    reminders?.changed([input.eventId]);
    return { eventId: input.eventId, conflicts: conflictsWith(ctx, input.eventId) };
  }),

  /**
   * Changes an event (organizer only, from the revision they saw): the whole series ('all'),
   * one occurrence ('this', an override by RECURRENCE-ID), or from an occurrence on
   * ('following': the series ends before it and a new one starts there).
   */
  update: authedProcedure.input(updateInput).mutation(({ ctx, input }) => {
    const change = updateChange(ctx, input);
    applyChange(ctx, change);
    const eventId = change.split?.id ?? input.eventId;
    return { eventId, conflicts: conflictsWith(ctx, eventId) };
  }),

  /** Deletes an event, one occurrence of it (an EXDATE), or it from an occurrence on. */
  delete: authedProcedure.input(deleteInput).mutation(({ ctx, input }) => {
    applyChange(ctx, deleteChange(ctx, input));
    return { ok: true as const };
  }),

  /**
   * The occurrences in a range (at most 366 days) of the caller's calendar (events they
   * organize or are invited to, in their conversations), or of one conversation; with the
   * events themselves and their encrypted content.
   */
  listOccurrences: authedProcedure.input(listInput).query(({ ctx, input }) => {
    const { fromMs, toMs } = checkRange(input);
    if (input.conversationId) requireMember(ctx, input.conversationId);
    const rows = calendarEventsInRange(ctx.deps.db, {
      userId: ctx.user.id,
      fromMs,
      toMs,
      ...(input.conversationId ? { conversationId: input.conversationId } : {}),
    });
    const events = toEventDtos(ctx.deps.db, rows);
    const occurrences: {
      eventId: string;
      recurrenceId: string | null;
      allDay: boolean;
      start: string;
      end: string;
      overridden: boolean;
    }[] = [];
    let truncated = false;
    rows.forEach((row, i) => {
      for (const o of occurrencesOf(row, events[i]!.overrides, fromMs, toMs)) {
        if (occurrences.length >= MAX_LISTED_OCCURRENCES) {
          truncated = true;
          return;
        }
        occurrences.push({
          eventId: row.id,
          recurrenceId: o.recurrenceId,
          allDay: o.allDay,
          start: o.start,
          end: o.end,
          overridden: o.overridden,
        });
      }
    });
    occurrences.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return { events, occurrences, truncated };
  }),

  /** One event with its overrides, attendees and encrypted content. */
  byId: authedProcedure.input(byIdInput).query(({ ctx, input }) => {
    const row = visibleEvent(ctx, input.eventId);
    return toEventDtos(ctx.deps.db, [row])[0]!;
  }),

  /**
   * An attendee's answer, for the whole series or (`recurrenceId`) one occurrence of it. The
   * answer and its comment are an encrypted message of theirs in the conversation (`rsvpRef`);
   * accepting returns the attendee's overlapping events.
   */
  rsvp: authedProcedure.input(rsvpInput).mutation(({ ctx, input }) => {
    const row = visibleEvent(ctx, input.eventId);
    const recurrenceId =
      input.recurrenceId === undefined
        ? undefined
        : requireOccurrence(row, input.recurrenceId, {
            field: 'recurrenceId',
            message: 'A single event is answered as a whole',
          });
    const { db, hub, reminders } = ctx.deps;
    const result = setCalendarRsvp(
      db,
      {
        eventId: input.eventId,
        userId: ctx.user.id,
        status: input.status,
        rsvpRef: input.rsvpRef,
        ...(recurrenceId === undefined ? {} : { recurrenceId }),
      },
      new Date(),
    );
    if (!result.ok) refused(result);
    publishEvents(db, hub, result.events);
    reminders?.changed([input.eventId]);
    return {
      status: input.status,
      conflicts: input.status === 'accepted' ? conflictsWith(ctx, input.eventId, recurrenceId) : [],
    };
  }),

  /**
   * When users are busy (events they organize, or accepted: the series, or an occurrence on its
   * own; an occurrence declined on its own does not count) in a range of at most 366 days:
   * merged intervals, no titles, no event ids. Only for the caller and people who share a
   * conversation with them.
   */
  freeBusy: authedProcedure.input(freeBusyInput).query(({ ctx, input }) => {
    const { fromMs, toMs } = checkRange(input);
    const userIds = [...new Set(input.userIds)];
    const allowed = new Set([ctx.user.id, ...contactsOf(ctx.deps.db, ctx.user.id)]);
    if (userIds.some((id) => !allowed.has(id)))
      throw new DomainError(
        'forbidden',
        'Free/busy time is shown only for people who share a conversation with you',
      );
    // Leaving out an event changes others' busy times only by that event's, so only an event
    // the caller can see may be left out.
    const excluded =
      input.excludeEventId === undefined ? undefined : visibleEvent(ctx, input.excludeEventId).id;
    const busy = busyIntervals(ctx.deps.db, userIds, fromMs, toMs, excluded);
    return userIds.map((userId) => ({
      userId,
      busy: mergeIntervals(busy.get(userId) ?? []).map((i) => ({
        start: new Date(Math.max(i.startMs, fromMs)),
        end: new Date(Math.min(i.endMs, toMs)),
      })),
    }));
  }),
});
