import {
  calendarEventsWithReminders,
  fireReminder,
  firedReminderKeys,
  overridesOf,
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
  let running = false;
  let pending = false;

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
      const longest = Math.max(...row.reminders) * MINUTE_MS;
      // Occurrences whose reminders fall due from `fromMs` up to the next look.
      const occurrences = expandOccurrences(
        row,
        overrides.get(row.id) ?? [],
        fromMs,
        nowMs + maxSleepMs + longest,
      );
      for (const occurrence of occurrences) {
        for (const minutesBefore of row.reminders) {
          const dueMs = occurrence.startMs - minutesBefore * MINUTE_MS;
          if (dueMs <= fromMs) continue;
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
    }
    if (count > 0) logger.info({ event: 'calendar.reminders.fired', count });
    return next;
  }

  function plan(): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = null;
    let next: number | null = null;
    try {
      next = sweep();
    } catch (error) {
      logger.error({ err: error }, 'calendar reminder sweep failed');
    }
    const delay =
      next === null ? maxSleepMs : Math.max(0, Math.min(maxSleepMs, next - now().getTime()));
    timer = setTimeout(plan, delay);
    timer.unref();
  }

  return {
    /** Fires what is due (including what fell due while stopped) and keeps watching. */
    start(): void {
      running = true;
      plan();
    },
    /** Events changed: look again soon (coalesced within one event-loop turn). */
    changed(): void {
      if (!running || pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        plan();
      });
    },
    stop(): void {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
    },
    /** One look now, for tests with a moved clock. */
    sweep,
  };
}

export type ReminderScheduler = ReturnType<typeof createReminderScheduler>;
