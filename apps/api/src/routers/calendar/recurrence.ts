import type { CalendarTimes } from '@securechat/db';
import { RRuleTemporal } from 'rrule-temporal';
import { Temporal } from 'temporal-polyfill';

/**
 * Recurrence expansion (RFC 5545) with rrule-temporal, in each event's own time zone: a weekly
 * 09:00 Europe/Berlin event stays at 09:00 local across daylight-saving changes. All-day events
 * are dates without a zone and recur as dates.
 */

/** The occurrences of one query are capped, and so is a range. */
export const MAX_OCCURRENCES_PER_EVENT = 1000;
export const MAX_RANGE_MS = 366 * 24 * 60 * 60 * 1000;
/** Every zone's offset lies within ±14 h: a date's day starts and ends within this of UTC. */
const DATE_MARGIN_MS = 14 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface SeriesTimes extends CalendarTimes {
  rrule: string | null;
  exdates: string[];
}

export interface OverrideTimes extends CalendarTimes {
  recurrenceId: string;
}

export interface Occurrence {
  /** The original start of a recurring event's occurrence; null for a single event. */
  recurrenceId: string | null;
  allDay: boolean;
  start: string;
  end: string;
  /** Instants in the event's zone (for all-day events: midnight there). */
  startMs: number;
  endMs: number;
  overridden: boolean;
}

/** `YYYY-MM-DDTHH:mm:ssZ` of an instant. */
export function instantString(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Where moving a series' start from `from` to `to` takes each of its recurrence ids: as far as
 * the start moved (whole days for an all-day series). Clients compute the same.
 */
export function shiftedBy(
  from: string,
  to: string,
  allDay: boolean,
): (recurrenceId: string) => string {
  const ms = (value: string) => Date.parse(allDay ? `${value}T00:00:00Z` : value);
  const delta = ms(to) - ms(from);
  return (recurrenceId) => {
    const moved = instantString(ms(recurrenceId) + delta);
    return allDay ? moved.slice(0, 10) : moved;
  };
}

/** The instant a date starts in a zone. */
function dateStartMs(date: string, timeZone: string): number {
  return Temporal.PlainDate.from(date).toZonedDateTime({ timeZone }).epochMilliseconds;
}

/** Start and end instants of an event or occurrence, in its zone. */
export function timesToMs(t: { allDay: boolean; start: string; end: string; timeZone: string }) {
  return t.allDay
    ? { startMs: dateStartMs(t.start, t.timeZone), endMs: dateStartMs(t.end, t.timeZone) }
    : { startMs: Date.parse(t.start), endMs: Date.parse(t.end) };
}

/** Widest instants a span can take in any viewer's zone (all-day dates shift by the zone). */
function wideMs(t: { allDay: boolean; start: string; end: string; timeZone: string }) {
  if (!t.allDay) return timesToMs(t);
  return {
    startMs: Date.parse(`${t.start}T00:00:00Z`) - DATE_MARGIN_MS,
    endMs: Date.parse(`${t.end}T00:00:00Z`) + DATE_MARGIN_MS,
  };
}

export class RecurrenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecurrenceError';
  }
}

function buildRule(series: SeriesTimes): RRuleTemporal {
  if (!series.rrule) throw new RecurrenceError('Not a recurring event');
  try {
    // A start or zone Temporal refuses fails here too, as a bad rule does.
    const dtstart = series.allDay
      ? Temporal.PlainDate.from(series.start).toZonedDateTime({ timeZone: 'UTC' })
      : Temporal.Instant.from(series.start).toZonedDateTimeISO(series.timeZone);
    return new RRuleTemporal({
      rruleString: series.rrule,
      dtstart,
      temporal: Temporal,
      maxIterations: 100_000,
    });
  } catch (error) {
    throw new RecurrenceError(
      error instanceof Error ? `Invalid recurrence rule: ${error.message}` : 'Invalid rule',
    );
  }
}

/** The recurrence id of a generated start (same form as the series' start). */
function idOf(series: SeriesTimes, zdt: Temporal.ZonedDateTime): string {
  return series.allDay ? zdt.toPlainDate().toString() : instantString(zdt.epochMilliseconds);
}

/** An occurrence of the series starting at `zdt`, with the series' duration. */
function occurrenceAt(series: SeriesTimes, zdt: Temporal.ZonedDateTime): Occurrence {
  const recurrenceId = idOf(series, zdt);
  if (series.allDay) {
    const days = Temporal.PlainDate.from(series.start).until(Temporal.PlainDate.from(series.end), {
      largestUnit: 'days',
    }).days;
    const start = zdt.toPlainDate();
    const end = start.add({ days }).toString();
    const ms = timesToMs({ ...series, start: start.toString(), end });
    return { recurrenceId, allDay: true, start: start.toString(), end, ...ms, overridden: false };
  }
  const duration = Date.parse(series.end) - Date.parse(series.start);
  const startMs = zdt.epochMilliseconds;
  return {
    recurrenceId,
    allDay: false,
    start: instantString(startMs),
    end: instantString(startMs + duration),
    startMs,
    endMs: startMs + duration,
    overridden: false,
  };
}

/**
 * Checks a rule (it must parse, recur daily or slower, and not ask for absurd counts) and
 * returns the bounds of every occurrence in any viewer's zone: [spanStartMs, spanEndMs], with
 * null for a series without end. Overrides widen the span.
 */
export function seriesSpan(
  series: SeriesTimes,
  overrides: OverrideTimes[] = [],
): { spanStartMs: number; spanEndMs: number | null } {
  const first = wideMs(series);
  let spanStartMs = first.startMs;
  let spanEndMs: number | null = first.endMs;
  if (series.rrule) {
    const rule = buildRule(series);
    const options = rule.options();
    if (options.until && options.count !== undefined)
      throw new RecurrenceError('A rule has COUNT or UNTIL, not both');
    if (['HOURLY', 'MINUTELY', 'SECONDLY'].includes(options.freq))
      throw new RecurrenceError('Events can recur at most daily');
    if (options.count !== undefined && options.count > MAX_OCCURRENCES_PER_EVENT)
      throw new RecurrenceError(`COUNT must be at most ${MAX_OCCURRENCES_PER_EVENT}`);
    const duration = first.endMs - first.startMs;
    if (options.count !== undefined) {
      const all = generated(() => rule.all());
      const last = all[all.length - 1];
      spanEndMs = last ? last.epochMilliseconds + duration + DAY_MS : first.endMs;
    } else if (options.until) {
      spanEndMs = options.until.epochMilliseconds + duration + 2 * DAY_MS;
    } else {
      spanEndMs = null;
    }
  }
  for (const o of overrides) {
    const ms = wideMs(o);
    spanStartMs = Math.min(spanStartMs, ms.startMs);
    if (spanEndMs !== null) spanEndMs = Math.max(spanEndMs, ms.endMs);
  }
  return { spanStartMs, spanEndMs };
}

/**
 * The occurrences that meet [fromMs, toMs) (all-day ones: in some zone), oldest first: the
 * rule's starts minus EXDATEs, each replaced by its override where one exists; at most `limit`.
 */
export function expandOccurrences(
  series: SeriesTimes,
  overrides: OverrideTimes[],
  fromMs: number,
  toMs: number,
  limit = MAX_OCCURRENCES_PER_EVENT,
): Occurrence[] {
  const meets = (o: { allDay: boolean; start: string; end: string; timeZone: string }) => {
    const ms = wideMs(o);
    return ms.startMs < toMs && ms.endMs > fromMs;
  };
  if (!series.rrule) {
    const single: Occurrence = {
      recurrenceId: null,
      allDay: series.allDay,
      start: series.start,
      end: series.end,
      ...timesToMs(series),
      overridden: false,
    };
    return meets(series) ? [single] : [];
  }
  const rule = buildRule(series);
  const byId = new Map(overrides.map((o) => [o.recurrenceId, o]));
  const excluded = new Set(series.exdates);
  const first = wideMs(series);
  const duration = first.endMs - first.startMs;
  const out: Occurrence[] = [];
  const seen = new Set<string>();
  const take = (occurrence: Occurrence) => {
    if (out.length < limit) out.push(occurrence);
  };

  // Generated starts that could meet the range (a start up to one duration earlier still does).
  const after = new Date(fromMs - duration - DATE_MARGIN_MS);
  const before = new Date(toMs + DATE_MARGIN_MS);
  let starts: Temporal.ZonedDateTime[];
  try {
    starts = generated(() => rule.between(after, before, true));
  } catch {
    // A stored rule the library cannot expand shows nothing rather than failing the query.
    starts = [];
  }
  for (const zdt of starts) {
    const base = occurrenceAt(series, zdt);
    const id = base.recurrenceId!;
    seen.add(id);
    if (excluded.has(id)) continue;
    const override = byId.get(id);
    if (override) {
      if (meets(override))
        take({
          recurrenceId: id,
          allDay: override.allDay,
          start: override.start,
          end: override.end,
          ...timesToMs(override),
          overridden: true,
        });
    } else if (meets({ ...base, timeZone: series.timeZone })) {
      take(base);
    }
    if (out.length >= limit) break;
  }
  // Overrides moved into the range from an original start outside it.
  for (const o of overrides) {
    if (seen.has(o.recurrenceId) || excluded.has(o.recurrenceId) || !meets(o)) continue;
    if (!isOccurrenceOf(series, o.recurrenceId, rule)) continue;
    take({
      recurrenceId: o.recurrenceId,
      allDay: o.allDay,
      start: o.start,
      end: o.end,
      ...timesToMs(o),
      overridden: true,
    });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** Whether `recurrenceId` is a start the series generates. */
export function isOccurrenceOf(
  series: SeriesTimes,
  recurrenceId: string,
  rule?: RRuleTemporal,
): boolean {
  if (!series.rrule) return false;
  const ms = series.allDay ? Date.parse(`${recurrenceId}T00:00:00Z`) : Date.parse(recurrenceId);
  if (Number.isNaN(ms)) return false;
  try {
    return (rule ?? buildRule(series))
      .between(new Date(ms - DAY_MS), new Date(ms + DAY_MS), true)
      .some((zdt) => idOf(series, zdt) === recurrenceId);
  } catch {
    // A series that cannot be expanded (its rule, start or zone refused) has no occurrences.
    return false;
  }
}

/** Runs the library's generator, reporting any failure of it as a {@link RecurrenceError}. */
function generated(run: () => Temporal.ZonedDateTime[]): Temporal.ZonedDateTime[] {
  try {
    return run();
  } catch (error) {
    throw new RecurrenceError(
      error instanceof Error ? `The rule cannot be expanded: ${error.message}` : 'Bad rule',
    );
  }
}
