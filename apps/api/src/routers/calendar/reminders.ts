import {
  calendarEventById,
  calendarEventsWithReminders,
  fireReminder,
  firedReminderKeys,
  overridesOf,
  type CalendarEventRow,
  type CalendarOverrideRow,
  type Db,
} from '@securechat/db';
import { publishEvents } from '../../events/publish.ts';
import type { Hub } from '../../events/hub.ts';
import type { Logger } from '../../logger.ts';
import { expandOccurrences } from './recurrence.ts';

export interface ReminderSchedulerOptions {
  db: Db;
  hub: Hub;
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
  /** Reminders due this long ago still fire (after a short outage); older ones are dropped. */
  graceMs?: number;
  /** The longest the scheduler sleeps between looks, so it never depends on one long timer. */
  maxSleepMs?: number;
}

const MINUTE_MS = 60_000;

/**
 * Fires calendar reminders from the server: at each reminder's moment it logs one content-free
 * `calendar.reminder` event per recipient. Nothing is kept in memory that a restart would lose:
 * what is due is computed from the events table, and what has fired is in the ledger, written
 * in the same immediate transaction as the events it logs. So a reminder fires exactly once,
 * and one that fell due while the server was down fires when it starts (within `graceMs`).
 */
export function createReminderScheduler(options: ReminderSchedulerOptions) {
  const { db, hub, logger } = options;
  const now = options.now ?? (() => new Date());
  const graceMs = options.graceMs ?? 60 * MINUTE_MS;
  const maxSleepMs = options.maxSleepMs ?? MINUTE_MS;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** When the pending timer fires (ms), so a change can tell whether it needs an earlier look. */
  let plannedAt: number | null = null;
  let running = false;

  /** Each reminder of `row` due in (fromMs, toMs], with the occurrence it belongs to. */
  function* dueReminders(
    row: CalendarEventRow,
    overrides: CalendarOverrideRow[],
    fromMs: number,
    toMs: number,
  ) {
    const longest = Math.max(...row.reminders) * MINUTE_MS;
    for (const occurrence of expandOccurrences(row, overrides, fromMs, toMs + longest)) {
      for (const minutesBefore of row.reminders) {
        const dueMs = occurrence.startMs - minutesBefore * MINUTE_MS;
        if (dueMs > fromMs && dueMs <= toMs) yield { occurrence, minutesBefore, dueMs };
      }
    }
  }

  /**
   * Fires everything due in (now − grace, now] that has not fired, and returns when the next
   * reminder falls due (or null when none does within `maxSleepMs`).
   */
  function sweep(): number | null {
    const nowMs = now().getTime();
    const fromMs = nowMs - graceMs;
    const rows = calendarEventsWithReminders(db, fromMs);
    const fired = firedReminderKeys(db, fromMs);
    const overrides = overridesOf(
      db,
      rows.map((r) => r.id),
    );
    let next: number | null = null;
    let count = 0;
    for (const row of rows) {
      // Reminders due from `fromMs` up to the next look.
      for (const { occurrence, minutesBefore, dueMs } of dueReminders(
        row,
        overrides.get(row.id) ?? [],
        fromMs,
        nowMs + maxSleepMs,
      )) {
        if (dueMs > nowMs) {
          if (next === null || dueMs < next) next = dueMs;
          continue;
        }
        const key = `${row.id}/${occurrence.startMs}/${minutesBefore}`;
        if (fired.has(key)) continue;
        const events = fireReminder(
          db,
          {
            eventId: row.id,
            occurrenceStartMs: occurrence.startMs,
            minutesBefore,
            dueAt: new Date(dueMs),
            recurrenceId: occurrence.recurrenceId,
            start: occurrence.start,
            allDay: occurrence.allDay,
          },
          new Date(nowMs),
        );
        fired.add(key);
        if (events.length > 0) {
          count += 1;
          publishEvents(db, hub, events);
        }
      }
    }
    if (count > 0) logger.info({ event: 'calendar.reminders.fired', count });
    return next;
  }

  function schedule(atMs: number): void {
    if (timer) clearTimeout(timer);
    plannedAt = atMs;
    timer = setTimeout(plan, Math.max(0, atMs - now().getTime()));
    timer.unref();
  }

  function plan(): void {
    if (!running) return;
    let next: number | null = null;
    try {
      next = sweep();
    } catch (error) {
      logger.error({ err: error }, 'calendar reminder sweep failed');
    }
    const nowMs = now().getTime();
    schedule(next === null ? nowMs + maxSleepMs : Math.min(nowMs + maxSleepMs, next));
  }

  /**
   * The earliest reminder of these events due before the planned look, if any. Only the changed
   * events are expanded: a write costs the events it touched, not every event with reminders.
   * A change that moves a reminder later, or deletes it, needs nothing: the planned look finds
   * nothing to fire and plans again.
   */
  function earliestDue(eventIds: readonly string[], untilMs: number): number | null {
    const nowMs = now().getTime();
    const rows = eventIds
      .map((id) => calendarEventById(db, id))
      .filter(
        (row): row is CalendarEventRow => !!row && !row.deletedAt && row.reminders.length > 0,
      );
    if (rows.length === 0) return null;
    const overrides = overridesOf(
      db,
      rows.map((r) => r.id),
    );
    let earliest: number | null = null;
    for (const row of rows) {
      for (const { dueMs } of dueReminders(
        row,
        overrides.get(row.id) ?? [],
        nowMs - graceMs,
        untilMs,
      )) {
        if (earliest === null || dueMs < earliest) earliest = dueMs;
      }
    }
    return earliest;
  }

  return {
    /** Fires what is due (including what fell due while stopped) and keeps watching. */
    start(): void {
      running = true;
      plan();
    },
    /** These events changed: look earlier than planned if one of their reminders is due sooner. */
    changed(eventIds: readonly string[]): void {
      if (!running) return;
      const due = earliestDue(eventIds, plannedAt ?? now().getTime() + maxSleepMs);
      if (due !== null && (plannedAt === null || due < plannedAt)) schedule(due);
    },
    stop(): void {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      plannedAt = null;
    },
    /** One look now, for tests with a moved clock. */
    sweep,
  };
}

export type ReminderScheduler = ReturnType<typeof createReminderScheduler>;
