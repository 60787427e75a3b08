import { describe, expect, it } from 'vitest';
import { mutedUntil, withMuted, type LocalPrefs } from './local-prefs.ts';

const now = Date.parse('2026-03-02T09:00:00Z');
const prefs = (muted: LocalPrefs['muted']): LocalPrefs => ({
  notifications: true,
  notificationPreviews: false,
  notificationPromptDismissed: false,
  muted,
});

describe('muted conversations', () => {
  it('are muted until their time, or until turned back on', () => {
    const p = prefs({ later: now + 60_000, always: null, over: now - 1, atNow: now });
    expect(mutedUntil(p, 'later', now)).toBe(now + 60_000);
    expect(mutedUntil(p, 'always', now)).toBe('always');
    expect(mutedUntil(p, 'over', now)).toBeNull();
    expect(mutedUntil(p, 'atNow', now)).toBeNull();
    expect(mutedUntil(p, 'other', now)).toBeNull();
    // Names the map's own entries only.
    expect(mutedUntil(p, 'constructor', now)).toBeNull();
  });

  it('change one entry and drop the ones that ran out', () => {
    const p = prefs({ kept: null, over: now - 1, soon: now + 1 });
    expect(withMuted(p, 'new', now + 3_600_000, now)).toEqual({
      kept: null,
      soon: now + 1,
      new: now + 3_600_000,
    });
    expect(withMuted(p, 'kept', 'off', now)).toEqual({ soon: now + 1 });
    expect(withMuted(p, 'soon', null, now)).toEqual({ kept: null, soon: null });
  });
});
