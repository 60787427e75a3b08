import { useCallback, useSyncExternalStore } from 'react';

/** Preferences that belong to this browser, not the account: kept in localStorage. */
export interface LocalPrefs {
  /** Show desktop notifications (needs the browser's permission too). */
  notifications: boolean;
  /** Show the message text in notifications; off by default, since anyone near the screen reads it. */
  notificationPreviews: boolean;
  /** The user dismissed the "turn on notifications" prompt. */
  notificationPromptDismissed: boolean;
  /**
   * Conversations whose new messages show no notification on this browser: until a time (ms), or
   * until the user turns them back on (null).
   */
  muted: Record<string, number | null>;
}

const DEFAULTS: LocalPrefs = {
  notifications: true,
  notificationPreviews: false,
  notificationPromptDismissed: false,
  muted: {},
};

/** Until when a conversation is muted on this browser: a time (ms), 'always', or null if it is not. */
export function mutedUntil(
  prefs: LocalPrefs,
  conversationId: string,
  now: number,
): number | 'always' | null {
  const until = Object.hasOwn(prefs.muted, conversationId)
    ? prefs.muted[conversationId]
    : undefined;
  if (until === undefined) return null;
  if (until === null) return 'always';
  return until > now ? until : null;
}

/** `prefs.muted` with `conversationId` muted until `until` (null: until turned back on), or not. */
export function withMuted(
  prefs: LocalPrefs,
  conversationId: string,
  until: number | null | 'off',
  now: number,
): LocalPrefs['muted'] {
  // Expired entries are dropped on every change, so the map holds only what still counts.
  const muted = Object.fromEntries(
    Object.entries(prefs.muted).filter(
      ([id, at]) => id !== conversationId && (at === null || at > now),
    ),
  );
  if (until !== 'off') muted[conversationId] = until;
  return muted;
}

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
    if (raw) {
      const stored = JSON.parse(raw) as Partial<LocalPrefs>;
      prefs = { ...DEFAULTS, ...stored };
      if (typeof prefs.muted !== 'object' || prefs.muted === null) prefs.muted = {};
    }
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
