import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import {
  conversationMembers,
  envelopes,
  events,
  messages,
  type EnvelopeRow,
  type EventKind,
  type EventRow,
  type MessageRow,
} from '../schema/index.ts';

export interface NewEvent {
  kind: EventKind;
  conversationId?: string | null;
  userId?: string | null;
  deviceId?: string | null;
  ref?: number | null;
  data?: Record<string, unknown> | null;
}

/** Appends events to the log (inside the caller's transaction); returns them with their ids. */
export function appendEvents(db: Db, rows: NewEvent[], now: Date): EventRow[] {
  if (rows.length === 0) return [];
  return db
    .insert(events)
    .values(rows.map((row) => ({ ...row, createdAt: now })))
    .returning()
    .all();
}

/** The id of the newest event, or 0. */
export function lastEventId(db: Db): number {
  return (
    db
      .select({ id: sql<number>`coalesce(max(${events.id}), 0)` })
      .from(events)
      .get()?.id ?? 0
  );
}

/** An event with what it refers to, ready to send. */
export interface HydratedEvent {
  event: EventRow;
  message?: MessageRow;
  envelope?: EnvelopeRow;
}

/**
 * The events a device may see after `afterId`, oldest first: those addressed to it, to its
 * user, and to conversations its user belongs to (only since the user joined).
 */
export function eventsAfter(
  db: Db,
  target: { userId: string; deviceId: string | null },
  afterId: number,
  limit: number,
): HydratedEvent[] {
  const rows = db
    .select({ event: events })
    .from(events)
    .leftJoin(
      conversationMembers,
      and(
        eq(conversationMembers.conversationId, events.conversationId),
        eq(conversationMembers.userId, target.userId),
      ),
    )
    .where(
      and(
        gt(events.id, afterId),
        or(
          target.deviceId ? eq(events.deviceId, target.deviceId) : sql`0`,
          and(eq(events.userId, target.userId), isNull(events.deviceId)),
          and(
            isNull(events.userId),
            isNull(events.deviceId),
            gt(events.id, conversationMembers.joinedAfterEventId),
          ),
        ),
      ),
    )
    .orderBy(asc(events.id))
    .limit(limit)
    .all()
    .map((row) => row.event);
  return hydrate(db, rows);
}

/** Attaches the messages and envelopes that events refer to. */
export function hydrate(db: Db, rows: EventRow[]): HydratedEvent[] {
  const messageSeqs = rows.filter((e) => e.kind === 'message' && e.ref !== null).map((e) => e.ref!);
  const envelopeIds = rows
    .filter((e) => e.kind === 'envelope' && e.ref !== null)
    .map((e) => e.ref!);
  const messageBySeq = new Map(
    (messageSeqs.length
      ? db
          .select()
          .from(messages)
          .where(sql`${messages.seq} in ${messageSeqs}`)
          .all()
      : []
    ).map((m) => [m.seq, m]),
  );
  const envelopeById = new Map(
    (envelopeIds.length
      ? db
          .select()
          .from(envelopes)
          .where(sql`${envelopes.id} in ${envelopeIds}`)
          .all()
      : []
    ).map((e) => [e.id, e]),
  );
  return rows.map((event) => ({
    event,
    ...(event.kind === 'message' && event.ref !== null
      ? { message: messageBySeq.get(event.ref) }
      : {}),
    ...(event.kind === 'envelope' && event.ref !== null
      ? { envelope: envelopeById.get(event.ref) }
      : {}),
  }));
}
