import ICAL from 'ical.js';
import { Temporal } from 'temporal-polyfill';

/**
 * iCalendar (RFC 5545) import and export, done in the browser with ical.js. The mapping works on
 * a plain model, `IcsEvent`, that the calendar turns into its own calls: a timed event's start and
 * end are UTC instants with the IANA zone it recurs in, an all-day event's are dates without a
 * zone (end exclusive, as DTEND is), and recurrence stays RFC 5545 text (RRULE, EXDATE,
 * RECURRENCE-ID) so nothing is lost on the way through.
 */

/** One changed occurrence of a recurring event (a VEVENT with RECURRENCE-ID). */
export interface IcsOverride {
  /** The occurrence's original start: an instant (`…Z`) or, for all-day events, a date. */
  recurrenceId: string;
  start: string;
  end: string;
  title: string;
  description: string;
  location: string;
}

export interface IcsEvent {
  uid: string;
  title: string;
  description: string;
  location: string;
  allDay: boolean;
  /** `YYYY-MM-DD` for all-day events, otherwise a UTC instant `YYYY-MM-DDTHH:MM:SSZ`. */
  start: string;
  /** Exclusive, same form as start. */
  end: string;
  /** The IANA zone the event's wall-clock times (and recurrence) belong to. */
  timeZone: string;
  /** The RRULE value (`FREQ=WEEKLY;COUNT=10`), or null for a single event. */
  rrule: string | null;
  /** Excluded occurrences, same form as start, sorted. */
  exdates: string[];
  overrides: IcsOverride[];
  /** Reminders as minutes before the start (from VALARM triggers), sorted. */
  reminders: number[];
}

export interface IcsImport {
  events: IcsEvent[];
  /** Problems with single components that were skipped (the rest still imports). */
  warnings: string[];
}

/** A file that is not iCalendar at all. */
export class IcsError extends Error {
  override name = 'IcsError';
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether the runtime knows `zone` as an IANA time zone. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(zone);
    return true;
  } catch {
    return false;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function instantString(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Resolves a DATE-TIME or DATE property value to the model's string form. */
type TimeResolver = (time: ICAL.Time, tzid: string | null) => string;

function makeResolver(zones: Map<string, ICAL.Timezone>, defaultZone: string): TimeResolver {
  return (time, tzid) => {
    if (time.isDate) return `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}`;
    const wall = Temporal.PlainDateTime.from({
      year: time.year,
      month: time.month,
      day: time.day,
      hour: time.hour,
      minute: time.minute,
      second: Math.min(time.second, 59),
    });
    if (time.zone === ICAL.Timezone.utcTimezone) {
      return instantString(wall.toZonedDateTime('UTC').epochMilliseconds);
    }
    // A TZID naming an IANA zone wins over its VTIMEZONE: the runtime's rules are current,
    // while files often carry outdated ones (RFC 5545's own examples predate the 2007 US change).
    if (tzid && isKnownTimeZone(tzid)) {
      return instantString(wall.toZonedDateTime(tzid).epochMilliseconds);
    }
    const vtimezone = tzid ? zones.get(tzid) : undefined;
    if (tzid && !vtimezone) throw new IcsError(`unknown time zone “${tzid}”`);
    if (vtimezone) {
      const local = time.clone();
      const offsetSeconds = vtimezone.utcOffset(local);
      return instantString(wall.toZonedDateTime('UTC').epochMilliseconds - offsetSeconds * 1000);
    }
    // Floating time: the same wall clock wherever the reader is; we pin it to the default zone.
    return instantString(wall.toZonedDateTime(defaultZone).epochMilliseconds);
  };
}

function text(component: ICAL.Component, name: string): string {
  const value = component.getFirstPropertyValue(name);
  return typeof value === 'string' ? value : '';
}

function readTime(
  component: ICAL.Component,
  name: string,
  resolve: TimeResolver,
): { value: string; time: ICAL.Time; tzid: string | null } | null {
  const prop = component.getFirstProperty(name);
  if (!prop) return null;
  const time = prop.getFirstValue() as ICAL.Time | null;
  if (!time || !(time instanceof ICAL.Time)) return null;
  const tzid = (prop.getParameter('tzid') as string | undefined) ?? null;
  return { value: resolve(time, tzid), time, tzid };
}

function addToStart(start: string, allDay: boolean, duration: ICAL.Duration): string {
  if (allDay) {
    return Temporal.PlainDate.from(start)
      .add({ days: duration.weeks * 7 + duration.days })
      .toString();
  }
  return instantString(Date.parse(start) + duration.toSeconds() * 1000);
}

function endOf(
  component: ICAL.Component,
  start: string,
  allDay: boolean,
  resolve: TimeResolver,
): string {
  const dtend = readTime(component, 'dtend', resolve);
  if (dtend) return dtend.value;
  const duration = component.getFirstPropertyValue('duration');
  if (duration instanceof ICAL.Duration) return addToStart(start, allDay, duration);
  // RFC 5545 3.6.1: without DTEND or DURATION a DATE event lasts one day, a DATE-TIME one none.
  return allDay ? Temporal.PlainDate.from(start).add({ days: 1 }).toString() : start;
}

function remindersOf(component: ICAL.Component): number[] {
  const minutes = new Set<number>();
  for (const alarm of component.getAllSubcomponents('valarm')) {
    const trigger = alarm.getFirstProperty('trigger');
    const value = trigger?.getFirstValue();
    // Only triggers relative to the start; absolute or end-relative ones have no offset to keep.
    if (!(value instanceof ICAL.Duration)) continue;
    if (trigger?.getParameter('related') === 'END') continue;
    const before = -value.toSeconds() / 60;
    if (before >= 0 && Number.isInteger(before)) minutes.add(before);
  }
  return [...minutes].sort((a, b) => a - b);
}

/** The IANA zone a TZID stands for, if any: the TZID itself or the VTIMEZONE's X-LIC-LOCATION. */
function ianaZoneOf(tzid: string | null, vtimezones: Map<string, ICAL.Component>): string | null {
  if (!tzid) return null;
  if (isKnownTimeZone(tzid)) return tzid;
  const location = vtimezones.get(tzid)?.getFirstPropertyValue('x-lic-location');
  return typeof location === 'string' && isKnownTimeZone(location) ? location : null;
}

/**
 * Reads every VEVENT of an iCalendar file. Overrides (RECURRENCE-ID) join the event with their
 * UID; cancelled overrides become EXDATEs. `defaultZone` is used for floating times.
 * Throws IcsError when the text is not iCalendar.
 */
export function parseIcs(source: string, defaultZone: string): IcsImport {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(source) as unknown[]);
  } catch (error) {
    throw new IcsError(`Not an iCalendar file: ${(error as Error).message}`);
  }
  if (root.name !== 'vcalendar') throw new IcsError('Not an iCalendar file: no VCALENDAR');
  const vtimezoneComponents = new Map<string, ICAL.Component>();
  const zones = new Map<string, ICAL.Timezone>();
  for (const component of root.getAllSubcomponents('vtimezone')) {
    const tzid = component.getFirstPropertyValue('tzid');
    if (typeof tzid !== 'string') continue;
    vtimezoneComponents.set(tzid, component);
    zones.set(tzid, new ICAL.Timezone(component));
  }
  const resolve = makeResolver(zones, defaultZone);
  const warnings: string[] = [];
  const masters = new Map<string, IcsEvent>();
  const pendingOverrides: { uid: string; override: IcsOverride; cancelled: boolean }[] = [];

  root.getAllSubcomponents('vevent').forEach((component, index) => {
    const label = text(component, 'summary') || `event ${index + 1}`;
    try {
      const uid = text(component, 'uid') || `imported-${index + 1}`;
      const dtstart = readTime(component, 'dtstart', resolve);
      if (!dtstart) throw new IcsError('it has no start (DTSTART)');
      const allDay = dtstart.time.isDate;
      const start = dtstart.value;
      const end = endOf(component, start, allDay, resolve);
      if (end < start) throw new IcsError('it ends before it starts');
      const recurrenceId = readTime(component, 'recurrence-id', resolve);
      if (recurrenceId) {
        pendingOverrides.push({
          uid,
          cancelled: text(component, 'status').toUpperCase() === 'CANCELLED',
          override: {
            recurrenceId: recurrenceId.value,
            start,
            end,
            title: text(component, 'summary'),
            description: text(component, 'description'),
            location: text(component, 'location'),
          },
        });
        return;
      }
      const rule = component.getFirstPropertyValue('rrule');
      const exdates: string[] = [];
      for (const prop of component.getAllProperties('exdate')) {
        const tzid = (prop.getParameter('tzid') as string | undefined) ?? null;
        for (const value of prop.getValues()) {
          if (value instanceof ICAL.Time) exdates.push(resolve(value, tzid));
        }
      }
      masters.set(uid, {
        uid,
        title: text(component, 'summary'),
        description: text(component, 'description'),
        location: text(component, 'location'),
        allDay,
        start,
        end,
        timeZone: allDay
          ? defaultZone
          : dtstart.time.zone === ICAL.Timezone.utcTimezone
            ? 'UTC'
            : (ianaZoneOf(dtstart.tzid, vtimezoneComponents) ?? defaultZone),
        rrule: rule instanceof ICAL.Recur ? rule.toString() : null,
        exdates: [...new Set(exdates)].sort(),
        overrides: [],
        reminders: remindersOf(component),
      });
    } catch (error) {
      warnings.push(`Skipped “${label}”: ${(error as Error).message}.`);
    }
  });

  for (const { uid, override, cancelled } of pendingOverrides) {
    const master = masters.get(uid);
    if (!master || !master.rrule) {
      warnings.push(`Skipped a changed occurrence of an event not in the file (${uid}).`);
      continue;
    }
    if (cancelled) {
      master.exdates = [...new Set([...master.exdates, override.recurrenceId])].sort();
    } else {
      master.overrides.push(override);
    }
  }
  for (const master of masters.values()) {
    master.overrides.sort((a, b) => a.recurrenceId.localeCompare(b.recurrenceId));
  }
  return { events: [...masters.values()], warnings };
}

// --- export ---

function dateValue(date: string): ICAL.Time {
  if (!DATE_RE.test(date)) throw new IcsError(`not a date: ${date}`);
  return ICAL.Time.fromDateString(date);
}

/** Wall-clock time of an instant in a zone, as a floating ICAL.Time (the TZID is a parameter). */
function wallTime(instant: string, zone: string): ICAL.Time {
  const zoned = Temporal.Instant.from(instant).toZonedDateTimeISO(zone);
  return ICAL.Time.fromData({
    year: zoned.year,
    month: zoned.month,
    day: zoned.day,
    hour: zoned.hour,
    minute: zoned.minute,
    second: zoned.second,
    isDate: false,
  });
}

function utcTime(instant: string): ICAL.Time {
  return ICAL.Time.fromJSDate(new Date(instant), true);
}

function setTime(
  component: ICAL.Component,
  name: string,
  value: string,
  allDay: boolean,
  zone: string,
): void {
  const prop = new ICAL.Property(name, component);
  if (allDay) {
    prop.setValue(dateValue(value));
  } else if (zone === 'UTC') {
    prop.setValue(utcTime(value));
  } else {
    prop.setValue(wallTime(value, zone));
    prop.setParameter('tzid', zone);
  }
  component.addProperty(prop);
}

function utcOffset(nanoseconds: number): ICAL.UtcOffset {
  return ICAL.UtcOffset.fromSeconds(Math.round(nanoseconds / 1e9));
}

/**
 * A VTIMEZONE for an IANA zone, made from the runtime's rules: one observance per transition in
 * the years given (RFC 5545 allows observances without RRULE), so any reader converts the
 * event's wall-clock times exactly as this browser does.
 */
export function vtimezoneFor(zone: string, fromYear: number, toYear: number): ICAL.Component {
  const vtimezone = new ICAL.Component('vtimezone');
  vtimezone.addPropertyWithValue('tzid', zone);
  vtimezone.addPropertyWithValue('x-lic-location', zone);
  const observance = (
    kind: 'standard' | 'daylight',
    local: Temporal.PlainDateTime,
    from: number,
    to: number,
  ) => {
    const component = new ICAL.Component(kind);
    component.addPropertyWithValue(
      'dtstart',
      ICAL.Time.fromData({
        year: local.year,
        month: local.month,
        day: local.day,
        hour: local.hour,
        minute: local.minute,
        second: local.second,
        isDate: false,
      }),
    );
    component.addPropertyWithValue('tzoffsetfrom', utcOffset(from));
    component.addPropertyWithValue('tzoffsetto', utcOffset(to));
    vtimezone.addSubcomponent(component);
  };
  let cursor = Temporal.PlainDateTime.from({ year: fromYear, month: 1, day: 1 }).toZonedDateTime(
    zone,
  );
  observance(
    'standard',
    cursor.toPlainDateTime(),
    cursor.offsetNanoseconds,
    cursor.offsetNanoseconds,
  );
  const end = Temporal.PlainDate.from({ year: toYear + 1, month: 1, day: 1 }).toZonedDateTime(zone);
  for (;;) {
    const next = cursor.getTimeZoneTransition('next');
    if (!next || Temporal.ZonedDateTime.compare(next, end) >= 0) break;
    const before = next.subtract({ nanoseconds: 1 }).offsetNanoseconds;
    const after = next.offsetNanoseconds;
    // DTSTART is the local time just before the change, in the offset it changes from.
    const local = next.toInstant().toZonedDateTimeISO('UTC').toPlainDateTime().add({
      nanoseconds: before,
    });
    observance(after > before ? 'daylight' : 'standard', local, before, after);
    cursor = next;
  }
  return vtimezone;
}

function addText(component: ICAL.Component, name: string, value: string): void {
  if (value) component.addPropertyWithValue(name, value);
}

/** Serializes events as one iCalendar file (VCALENDAR with a VTIMEZONE per zone used). */
export function toIcs(events: readonly IcsEvent[], now: Date = new Date()): string {
  const calendar = new ICAL.Component('vcalendar');
  calendar.addPropertyWithValue('prodid', '-//SecureChat//Calendar//EN');
  calendar.addPropertyWithValue('version', '2.0');
  calendar.addPropertyWithValue('calscale', 'GREGORIAN');
  const stamp = utcTime(instantString(now.getTime()));
  const years = new Map<string, [number, number]>();
  for (const event of events) {
    if (event.allDay || event.timeZone === 'UTC') continue;
    const year = Number(event.start.slice(0, 4));
    const last = event.rrule ? year + 5 : Number(event.end.slice(0, 4));
    const known = years.get(event.timeZone);
    years.set(event.timeZone, [
      Math.min(known?.[0] ?? year, year),
      Math.max(known?.[1] ?? last, last),
    ]);
  }
  for (const [zone, [from, to]] of years) calendar.addSubcomponent(vtimezoneFor(zone, from, to));

  for (const event of events) {
    const vevent = new ICAL.Component('vevent');
    vevent.addPropertyWithValue('uid', event.uid);
    vevent.addPropertyWithValue('dtstamp', stamp);
    setTime(vevent, 'dtstart', event.start, event.allDay, event.timeZone);
    setTime(vevent, 'dtend', event.end, event.allDay, event.timeZone);
    if (event.rrule) vevent.addPropertyWithValue('rrule', ICAL.Recur.fromString(event.rrule));
    for (const exdate of event.exdates)
      setTime(vevent, 'exdate', exdate, event.allDay, event.timeZone);
    addText(vevent, 'summary', event.title);
    addText(vevent, 'description', event.description);
    addText(vevent, 'location', event.location);
    for (const minutes of event.reminders) {
      const alarm = new ICAL.Component('valarm');
      alarm.addPropertyWithValue('action', 'DISPLAY');
      alarm.addPropertyWithValue('description', event.title || 'Reminder');
      alarm.addPropertyWithValue('trigger', ICAL.Duration.fromSeconds(-minutes * 60));
      vevent.addSubcomponent(alarm);
    }
    calendar.addSubcomponent(vevent);
    for (const override of event.overrides) {
      const changed = new ICAL.Component('vevent');
      changed.addPropertyWithValue('uid', event.uid);
      changed.addPropertyWithValue('dtstamp', stamp);
      setTime(changed, 'recurrence-id', override.recurrenceId, event.allDay, event.timeZone);
      setTime(changed, 'dtstart', override.start, event.allDay, event.timeZone);
      setTime(changed, 'dtend', override.end, event.allDay, event.timeZone);
      addText(changed, 'summary', override.title);
      addText(changed, 'description', override.description);
      addText(changed, 'location', override.location);
      calendar.addSubcomponent(changed);
    }
  }
  // RFC 5545 lines end in CRLF.
  return calendar.toString().replace(/\r?\n/g, '\r\n') + '\r\n';
}
