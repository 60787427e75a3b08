import { useCallback, useSyncExternalStore } from 'react';

/** Preferences that belong to this browser, not the account: kept in localStorage. */
export interface LocalPrefs {
  /** Show desktop notifications (needs the browser's permission too). */
  notifications: boolean;
  /** Show the message text in notifications; off by default, since anyone near the screen reads it. */
  notificationPreviews: boolean;
  /** The user dismissed the "turn on notifications" prompt. */
  notificationPromptDismissed: boolean;
}

const DEFAULTS: LocalPrefs = {
  notifications: true,
  notificationPreviews: false,
  notificationPromptDismissed: false,
};

const storageKey = (userId: string) => `securechat:prefs:${userId}`;
const listeners = new Set<() => void>();
const snapshots = new Map<string, LocalPrefs>();

/** The preferences of a user on this browser (defaults when none or unreadable). */
export function readLocalPrefs(userId: string): LocalPrefs {
  const cached = snapshots.get(userId);
  if (cached) return cached;
  let prefs = DEFAULTS;
  try {
    const raw = window.localStorage.getItem(storageKey(userId));
    if (raw) prefs = { ...DEFAULTS, ...(JSON.parse(raw) as Partial<LocalPrefs>) };
  } catch {
    // Storage blocked or corrupt: the defaults are safe.
  }
  snapshots.set(userId, prefs);
  return prefs;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key?.startsWith('securechat:prefs:')) {
      snapshots.clear();
      listener();
    }
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

/** This browser's preferences for the user, and a way to change them. */
export function useLocalPrefs(userId: string): [LocalPrefs, (change: Partial<LocalPrefs>) => void] {
  const prefs = useSyncExternalStore(subscribe, () => readLocalPrefs(userId));
  const update = useCallback(
    (change: Partial<LocalPrefs>) => {
      const next = { ...readLocalPrefs(userId), ...change };
      snapshots.set(userId, next);
      try {
        window.localStorage.setItem(storageKey(userId), JSON.stringify(next));
      } catch {
        // Kept for this page's life only.
      }
      for (const listener of listeners) listener();
    },
    [userId],
  );
  return [prefs, update];
}
