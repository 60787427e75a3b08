import { useSyncExternalStore } from 'react';

/** How long a "typing" signal counts; senders repeat it every few seconds while typing. */
const TYPING_MS = 6_000;

/**
 * Who is typing where, from `typing` events (not stored anywhere). A small external store so
 * only the conversation showing the indicator re-renders.
 */
export class TypingStore {
  readonly #typing = new Map<string, Map<string, number>>();
  readonly #listeners = new Set<() => void>();
  readonly #snapshots = new Map<string, string[]>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  typing(conversationId: string, userId: string): void {
    let users = this.#typing.get(conversationId);
    if (!users) this.#typing.set(conversationId, (users = new Map()));
    users.set(userId, Date.now() + TYPING_MS);
    this.#changed(conversationId);
  }

  /** A message from the user ends their typing. */
  stopped(conversationId: string, userId: string): void {
    if (this.#typing.get(conversationId)?.delete(userId)) this.#changed(conversationId);
  }

  subscribe = (listener: () => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The ids typing in the conversation now (a stable array until it changes). */
  snapshot(conversationId: string): string[] {
    const now = Date.now();
    const users = [...(this.#typing.get(conversationId) ?? [])]
      .filter(([, until]) => until > now)
      .map(([id]) => id)
      .sort();
    const previous = this.#snapshots.get(conversationId);
    if (previous && previous.join() === users.join()) return previous;
    this.#snapshots.set(conversationId, users);
    return users;
  }

  #changed(conversationId: string): void {
    this.#snapshots.delete(conversationId);
    for (const listener of this.#listeners) listener();
    this.#schedule();
  }

  /** Wakes listeners when the next signal expires, so the indicator disappears on time. */
  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    let next = Infinity;
    for (const users of this.#typing.values())
      for (const until of users.values()) next = Math.min(next, until);
    if (next === Infinity) return;
    this.#timer = setTimeout(
      () => {
        const now = Date.now();
        for (const users of this.#typing.values()) {
          for (const [id, until] of users) if (until <= now) users.delete(id);
        }
        this.#snapshots.clear();
        for (const listener of this.#listeners) listener();
        this.#schedule();
      },
      Math.max(50, next - Date.now()),
    );
  }
}

/** The users typing in a conversation. */
export function useTypingUsers(store: TypingStore, conversationId: string): string[] {
  return useSyncExternalStore(store.subscribe, () => store.snapshot(conversationId));
}
