import { describe, expect, it } from 'vitest';
import { zoneGroups } from './calendar-time.ts';

describe('zoneGroups', () => {
  const winter = new Date('2026-01-15T12:00:00Z');
  const summer = new Date('2026-07-15T12:00:00Z');
  const zones = [
    'UTC',
    'America/Argentina/Buenos_Aires',
    'Asia/Tokyo',
    'Europe/Berlin',
    'Europe/Helsinki',
  ];

  it('puts the place first, then the offset at that moment, then whether it is this device’s', () => {
    expect(zoneGroups(zones, 'Europe/Berlin', winter)).toEqual([
      { region: null, zones: [{ zone: 'UTC', label: 'UTC' }] },
      {
        region: 'America',
        zones: [
          {
            zone: 'America/Argentina/Buenos_Aires',
            label: 'Argentina / Buenos Aires · GMT-3',
          },
        ],
      },
      { region: 'Asia', zones: [{ zone: 'Asia/Tokyo', label: 'Tokyo · GMT+9' }] },
      {
        region: 'Europe',
        zones: [
          { zone: 'Europe/Berlin', label: 'Berlin · GMT+1 · this device' },
          { zone: 'Europe/Helsinki', label: 'Helsinki · GMT+2' },
        ],
      },
    ]);
  });

  it('follows daylight saving time, and leaves out an empty group', () => {
    const groups = zoneGroups(['Europe/Berlin', 'Europe/Helsinki'], 'UTC', summer);
    expect(groups).toEqual([
      {
        region: 'Europe',
        zones: [
          { zone: 'Europe/Berlin', label: 'Berlin · GMT+2' },
          { zone: 'Europe/Helsinki', label: 'Helsinki · GMT+3' },
        ],
      },
    ]);
    expect(zoneGroups(['UTC'], 'UTC')).toEqual([
      { region: null, zones: [{ zone: 'UTC', label: 'UTC · this device' }] },
    ]);
  });
});
