import { useCallback, useState } from 'react';

/**
 * A choice remembered in this browser (localStorage, under `key`): the saved value where `parse`
 * accepts it, otherwise `fallback()`. Setting null forgets it. Where storage is blocked, a choice
 * lasts for the page's life.
 */
export function useStoredChoice<T extends string>(
  key: string,
  parse: (saved: string) => T | null,
  fallback: () => T,
): [T, (next: T | null) => void] {
  const [value, setValue] = useState(() => {
    try {
      const saved = window.localStorage.getItem(key);
      const parsed = saved === null ? null : parse(saved);
      if (parsed !== null) return parsed;
    } catch {
      // Storage blocked: the fallback.
    }
    return fallback();
  });
  const set = useCallback(
    (next: T | null) => {
      try {
        if (next === null) window.localStorage.removeItem(key);
        else window.localStorage.setItem(key, next);
      } catch {
        // Kept for this page's life only.
      }
      setValue(next ?? fallback());
    },
    // `parse` and `fallback` are read when the choice is made, not tracked.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );
  return [value, set];
}
