import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

interface KeyedRow {
  key: string;
  kind: string;
}

/** How close to an edge (px) counts as being at it. */
const EDGE = 120;
/** The height of the area above the rows (`.message-top` in styles.css). */
const TOP_HEIGHT = 56;

/**
 * A virtualized, bottom-anchored list of messages (the ARIA feed pattern): only the rows near
 * the viewport are in the DOM. It opens at the newest message (or the one asked for), stays at
 * the bottom as messages arrive while the reader is there, keeps its place when older messages
 * are loaded above, and asks for older ones when scrolled near the top. Row positions are set
 * through the CSSOM (`style` properties), which the CSP allows, unlike style attributes.
 *
 * Keyboard: Up/Down and Page Up/Down move between messages, Home/End to the first and last.
 */
export function MessageList<Row extends KeyedRow>({
  rows,
  renderRow,
  estimateSize,
  top,
  busy,
  canLoadOlder,
  onNearTop,
  focusKey,
  focusSignal = 0,
  bottomSignal,
  label,
}: {
  rows: Row[];
  renderRow: (row: Row, index: number) => ReactNode;
  estimateSize: (row: Row) => number;
  /** Shown above the first row: "load older", "start of the conversation". */
  top: ReactNode;
  busy: boolean;
  canLoadOlder: boolean;
  onNearTop: () => void;
  /** A row to bring into view and focus (a search result), instead of the bottom. */
  focusKey: string | null;
  /** Changes with each request to show `focusKey`, also when it names the same row again. */
  focusSignal?: number;
  /** Changes when the list must go to the bottom whatever the reader was doing (they sent). */
  bottomSignal: number;
  label: string;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef<{ first?: string; last?: string; total: number; count: number }>({
    total: 0,
    count: 0,
  });
  const settled = useRef(false);

  // The app does not use the React Compiler, so nothing memoizes around the virtualizer's
  // functions; the rule's warning does not apply.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimateSize(rows[index]!),
    getItemKey: (index) => rows[index]!.key,
    overscan: 8,
    scrollMargin: TOP_HEIGHT,
  });

  const scrollToBottom = useCallback(() => {
    if (rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [rows.length, virtualizer]);

  // Keeps the reader's place: content added above moves the scroll position by its height, and
  // content added below follows only a reader who was already at the bottom.
  useLayoutEffect(() => {
    const element = scrollRef.current;
    const before = previous.current;
    const total = virtualizer.getTotalSize();
    const first = rows[0]?.key;
    const last = rows[rows.length - 1]?.key;
    if (element && settled.current && before.first && first !== before.first) {
      const oldFirstIndex = rows.findIndex((row) => row.key === before.first);
      if (oldFirstIndex > 0) element.scrollTop += total - before.total;
    }
    if (settled.current && last !== before.last && atBottom.current) scrollToBottom();
    previous.current = { first, last, total, count: rows.length };
  }, [rows, virtualizer, scrollToBottom]);

  // First arrival: the bottom, or the message asked for.
  useEffect(() => {
    if (settled.current || rows.length === 0) return;
    settled.current = true;
    const index = focusKey ? rows.findIndex((row) => row.key === focusKey) : -1;
    if (index >= 0) {
      atBottom.current = false;
      virtualizer.scrollToIndex(index, { align: 'center' });
    } else {
      scrollToBottom();
    }
  }, [rows, focusKey, virtualizer, scrollToBottom]);

  // A later request to show a message: another search result in the same conversation, a quoted
  // message, a file from the files panel.
  useEffect(() => {
    if (!focusKey || !settled.current) return;
    const index = rows.findIndex((row) => row.key === focusKey);
    if (index < 0) return;
    atBottom.current = false;
    virtualizer.scrollToIndex(index, { align: 'center' });
    // Focus once the row is rendered.
    const timer = setTimeout(() => {
      scrollRef.current
        ?.querySelector<HTMLElement>(`[data-row-key="${CSS.escape(focusKey)}"] [tabindex]`)
        ?.focus({ preventScroll: true });
    }, 120);
    return () => clearTimeout(timer);
    // Only when a message is asked for (or the one asked for first appears).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusKey, focusSignal, rows.length > 0 && rows.some((row) => row.key === focusKey)]);

  useEffect(() => {
    if (bottomSignal === 0) return;
    atBottom.current = true;
    scrollToBottom();
  }, [bottomSignal, scrollToBottom]);

  // A short list does not fill the view, so it cannot be scrolled up to ask for more.
  useEffect(() => {
    const element = scrollRef.current;
    if (!element || !canLoadOlder || busy) return;
    if (element.scrollHeight <= element.clientHeight + EDGE) onNearTop();
  }, [rows.length, canLoadOlder, busy, onNearTop]);

  function onScroll() {
    const element = scrollRef.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < EDGE;
    if (element.scrollTop < EDGE && canLoadOlder && !busy) onNearTop();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const keys = ['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'];
    if (!keys.includes(event.key)) return;
    const target = event.target as HTMLElement;
    // Only when a message itself has focus: inside the composer or a button, keys keep their use.
    if (!target.matches('[data-row-key] > [tabindex]')) return;
    event.preventDefault();
    const current = Number(target.closest<HTMLElement>('[data-index]')?.dataset.index ?? -1);
    const focusables = (index: number) =>
      index >= 0 && index < rows.length && rows[index]!.kind !== 'day';
    let next = current;
    const step = event.key === 'ArrowUp' || event.key === 'PageUp' ? -1 : 1;
    const jump = event.key === 'PageUp' || event.key === 'PageDown' ? 5 : 1;
    if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = rows.length - 1;
    else {
      let moved = 0;
      while (moved < jump) {
        next += step;
        if (next < 0 || next >= rows.length) break;
        if (focusables(next)) moved += 1;
      }
    }
    next = Math.max(0, Math.min(rows.length - 1, next));
    while (!focusables(next) && next < rows.length - 1 && step > 0) next += 1;
    while (!focusables(next) && next > 0) next -= 1;
    virtualizer.scrollToIndex(next, { align: 'auto' });
    const focusRow = () => {
      const row = scrollRef.current?.querySelector<HTMLElement>(
        `[data-index="${next}"] > [tabindex]`,
      );
      row?.focus({ preventScroll: true });
      return row !== null && row !== undefined;
    };
    // Usually already rendered (overscan); otherwise once the virtualizer has drawn it.
    if (!focusRow()) requestAnimationFrame(() => void focusRow());
  }

  const items = virtualizer.getVirtualItems();
  return (
    <div ref={scrollRef} className="message-scroll" onScroll={onScroll} onKeyDown={onKeyDown}>
      <div className="message-top">{top}</div>
      <div
        role="feed"
        aria-label={label}
        aria-busy={busy}
        className="message-feed"
        style={{ height: virtualizer.getTotalSize() }}
      >
        {items.map((item) => {
          const row = rows[item.index]!;
          return (
            <div
              key={item.key}
              ref={virtualizer.measureElement}
              data-index={item.index}
              data-row-key={row.key}
              className="message-slot"
              style={{ transform: `translateY(${item.start - TOP_HEIGHT}px)` }}
            >
              {renderRow(row, item.index)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
