/** Every event the server publishes, by topic, with its payload. */
export interface EventMap {
  /** A user's set of sessions changed (sign-in, sign-out, revoke, expiry). */
  'sessions.changed': { userId: string };
}

export type Topic = keyof EventMap;
type Listener<T extends Topic> = (payload: EventMap[T]) => void;

/**
 * A small typed publish/subscribe hub. Listeners run synchronously in publish order; one that
 * throws is reported and does not stop the others.
 */
export function createEventBus(onListenerError: (error: unknown) => void = () => {}) {
  const listeners = new Map<Topic, Set<Listener<Topic>>>();
  return {
    publish<T extends Topic>(topic: T, payload: EventMap[T]): void {
      for (const listener of listeners.get(topic) ?? []) {
        try {
          listener(payload);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    subscribe<T extends Topic>(topic: T, listener: Listener<T>): () => void {
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener as Listener<Topic>);
      return () => set.delete(listener as Listener<Topic>);
    },
  };
}

export type EventBus = ReturnType<typeof createEventBus>;

/**
 * The events of one topic that pass `filter`, as an async iterable that ends when `signal`
 * aborts. It listens from the moment it is called, so a caller can subscribe first and read a
 * backlog second without missing what happens in between. A consumer that falls more than
 * `maxQueued` events behind is ended with an error rather than growing memory.
 */
export function listen<T extends Topic>(
  bus: EventBus,
  topic: T,
  options: {
    signal: AbortSignal | undefined;
    filter?: (payload: EventMap[T]) => boolean;
    maxQueued?: number;
  },
): AsyncIterableIterator<EventMap[T]> {
  const queue: EventMap[T][] = [];
  const maxQueued = options.maxQueued ?? 1000;
  let wake: (() => void) | null = null;
  let overflow = false;
  let done = false;
  const unsubscribe = bus.subscribe(topic, (payload) => {
    if (done || (options.filter && !options.filter(payload))) return;
    if (queue.length >= maxQueued) overflow = true;
    else queue.push(payload);
    wake?.();
  });
  const finish = () => {
    done = true;
    unsubscribe();
    wake?.();
  };
  options.signal?.addEventListener('abort', finish, { once: true });

  const iterator: AsyncIterableIterator<EventMap[T]> = {
    async next() {
      while (!done) {
        if (overflow) {
          finish();
          throw new Error('subscriber fell too far behind');
        }
        const value = queue.shift();
        if (value !== undefined) return { value, done: false };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
      return { value: undefined, done: true };
    },
    async return() {
      finish();
      options.signal?.removeEventListener('abort', finish);
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
