import { Temporal } from 'temporal-polyfill';

/**
 * Time arithmetic for the calendar, with Temporal so a zone's rules (DST) are applied exactly.
 * Timed values are UTC instants `YYYY-MM-DDTHH:MM:SSZ`; all-day values are plain dates
 * `YYYY-MM-DD` that never pass through `Date`, so they stay on their day in every zone.
 */

/** The browser's IANA zone. */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every zone the browser knows, for the pickers. */
export function knownZones(): string[] {
  const zones =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** An instant (any ISO form with an offset, or epoch ms) as `YYYY-MM-DDTHH:MM:SSZ`. */
export function toInstant(value: string | number | Date): string {
  const ms = typeof value === 'string' ? Date.parse(value) : +value;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The value of a `datetime-local` input showing an instant's wall-clock time in a zone. */
export function instantToLocalInput(instant: string, zone: string): string {
  const zoned = Temporal.Instant.from(instant).toZonedDateTimeISO(zone);
  return zoned.toPlainDateTime().toString({ smallestUnit: 'minute' });
}

/** The instant a `datetime-local` value means in a zone (the earlier one in a DST overlap). */
export function localInputToInstant(value: string, zone: string): string {
  const zoned = Temporal.PlainDateTime.from(value).toZonedDateTime(zone, {
    disambiguation: 'compatible',
  });
  return toInstant(zoned.epochMilliseconds);
}

/** A date plus whole days. */
export function addDays(date: string, days: number): string {
  return Temporal.PlainDate.from(date).add({ days }).toString();
}

/** Days from one date to another. */
export function daysBetween(from: string, to: string): number {
  return Temporal.PlainDate.from(from).until(Temporal.PlainDate.from(to)).days;
}

/** Today's date in a zone. */
export function todayIn(zone: string): string {
  return Temporal.Now.plainDateISO(zone).toString();
}

/** The date an instant falls on in a zone. */
export function dateIn(instant: string, zone: string): string {
  return Temporal.Instant.from(instant).toZonedDateTimeISO(zone).toPlainDate().toString();
}

/** Moves an instant by milliseconds. */
export function shiftInstant(instant: string, ms: number): string {
  return toInstant(Date.parse(instant) + ms);
}

/** "Mon 2 Mar, 09:00 – 10:00" style text for an event's time in a zone. */
export function formatWhen(
  when: { allDay: boolean; start: string; end: string },
  zone: string,
  locale?: string,
): string {
  if (when.allDay) {
    const last = addDays(when.end, -1);
    const day = (date: string) =>
      Temporal.PlainDate.from(date).toLocaleString(locale, {
        weekday: 'short',
        day: 'numeric',
        month: 'short',
        year: 'numeric',
      });
    return last > when.start
      ? `${day(when.start)} – ${day(last)}, all day`
      : `${day(when.start)}, all day`;
  }
  const format = new Intl.DateTimeFormat(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: zone,
  });
  return format.formatRange(new Date(when.start), new Date(when.end));
}

/** A short name for a zone's offset at an instant, e.g. "GMT+2". */
export function zoneOffsetLabel(zone: string, at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? zone;
}

/** Zones in a picker, under their region ("Europe"); zones with none (UTC) come first. */
export interface ZoneGroup {
  region: string | null;
  zones: { zone: string; label: string }[];
}

/**
 * The zones for a picker, grouped by region, each labelled with what a closed picker must show
 * first, as narrow as a phone makes it: the place, then the offset now, then whether it is this
 * device's ("Tokyo · GMT+9", "Argentina / Buenos Aires · GMT-3", "UTC · this device").
 */
export function zoneGroups(zones: readonly string[], local: string, at = new Date()): ZoneGroup[] {
  const groups = new Map<string | null, ZoneGroup>([[null, { region: null, zones: [] }]]);
  for (const zone of zones) {
    const slash = zone.indexOf('/');
    const region = slash < 0 ? null : zone.slice(0, slash);
    const place = zone
      .slice(slash + 1)
      .replaceAll('_', ' ')
      .replaceAll('/', ' / ');
    // UTC needs no offset ("GMT" or "GMT+0", as the runtime spells it).
    const parts = zone === 'UTC' ? [zone] : [place, zoneOffsetLabel(zone, at)];
    if (zone === local) parts.push('this device');
    const group = groups.get(region) ?? { region, zones: [] };
    group.zones.push({ zone, label: parts.join(' · ') });
    groups.set(region, group);
  }
  return [...groups.values()].filter((g) => g.zones.length > 0);
}

/** Whether the browser knows `zone` as an IANA zone. */
export function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
