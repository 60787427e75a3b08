import { useSyncExternalStore } from 'react';

/**
 * The number of unread messages the tab's title shows, "(3) Chats · SecureChat", so a background
 * tab says that something arrived. Set by the signed-in app (`UnreadTitleCount`); 0 elsewhere.
 */
let unread = 0;
const listeners = new Set<() => void>();

export function setUnreadTitleCount(count: number): void {
  if (count === unread) return;
  unread = count;
  for (const listener of listeners) listener();
}

export function useUnreadTitleCount(): number {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => unread,
  );
}

/** `(n) ` before a title when n messages are unread. */
export function withUnreadCount(title: string, count: number): string {
  return count > 0 ? `(${count > 99 ? '99+' : count}) ${title}` : title;
}
