import { Fragment, useMemo } from 'react';
import { browserZone, knownZones, zoneGroups } from './calendar-time.ts';

/**
 * The options of a time zone picker: every zone the browser knows under its region, each named
 * by its place and offset now ("Tokyo · GMT+9"), this device's marked; `current`, when the
 * browser does not list it (an imported event's zone), comes first.
 */
export function ZoneOptions({ current }: { current?: string }) {
  const local = browserZone();
  // About 400 zones, each with its current offset: worked out once, not on every render.
  const known = useMemo(() => knownZones(), []);
  const missing = current && !known.includes(current) ? current : null;
  const groups = useMemo(
    () => zoneGroups(missing ? [missing, ...known] : known, local),
    [known, missing, local],
  );
  return groups.map(({ region, zones }) => {
    const options = zones.map(({ zone, label }) => (
      <option key={zone} value={zone}>
        {label}
      </option>
    ));
    return region ? (
      <optgroup key={region} label={region}>
        {options}
      </optgroup>
    ) : (
      <Fragment key="">{options}</Fragment>
    );
  });
}
