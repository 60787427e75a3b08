import { useCallback, useEffect, useState } from 'react';

export type TabLockState = 'pending' | 'held' | 'elsewhere' | 'unsupported';

/**
 * One tab at a time may hold a device's keys: two tabs decrypting the same stream would both
 * advance the same key chains in one IndexedDB and could lose messages. A Web Lock decides; a tab
 * that finds it taken waits in line (and takes over when the other closes), or takes it at once
 * with `takeOver`, which makes the other tab let go.
 */
export function useTabLock(name: string): { state: TabLockState; takeOver: () => void } {
  const supported = typeof navigator !== 'undefined' && 'locks' in navigator;
  const [state, setState] = useState<TabLockState>(supported ? 'pending' : 'unsupported');
  const [attempt, setAttempt] = useState({ steal: false, count: 0 });

  useEffect(() => {
    if (!supported) return;
    const abort = new AbortController();
    let releaseHeld: () => void = () => {};
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    const hold = () => {
      if (!abort.signal.aborted) setState('held');
      return held;
    };
    // Waits in line: when the tab holding the lock closes, this one carries on by itself.
    const wait = () =>
      void navigator.locks.request(name, { signal: abort.signal }, hold).catch(onLost);
    function onLost() {
      // Rejected when another tab took the lock over (then wait for it to be free again), or
      // when this effect was cleaned up (then nothing).
      if (abort.signal.aborted) return;
      setState('elsewhere');
      wait();
    }
    if (attempt.steal) {
      navigator.locks.request(name, { steal: true }, hold).catch(onLost);
    } else {
      navigator.locks
        .request(name, { ifAvailable: true }, (lock) => {
          if (lock) return hold();
          if (!abort.signal.aborted) setState('elsewhere');
          wait();
          return undefined;
        })
        .catch(onLost);
    }
    return () => {
      abort.abort();
      releaseHeld();
    };
  }, [name, supported, attempt]);

  const takeOver = useCallback(
    () => setAttempt((current) => ({ steal: true, count: current.count + 1 })),
    [],
  );
  return { state, takeOver };
}
