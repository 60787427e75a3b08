import { and, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { devices, sessions, users, type NewSession, type Session } from '../schema/index.ts';

export type SessionWithUser = { session: Session; user: { id: string; username: string } };

/**
 * Session queries, prepared once per database: the session look-up runs on every call, so it
 * skips the query builder's per-call cost.
 */
export function createSessionQueries(db: Db) {
  const byId = db
    .select({
      session: sessions,
      user: { id: users.id, username: users.username },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare();

  return {
    insert(session: NewSession): Session {
      return db.insert(sessions).values(session).returning().get();
    },
    /** The session and its user, or undefined when no such session exists. */
    withUser(id: string): SessionWithUser | undefined {
      return byId.get({ id });
    },
    /** Records activity and, when given, a new expiry (the sliding window). */
    touch(id: string, lastSeenAt: Date, expiresAt?: Date): void {
      db.update(sessions)
        .set(expiresAt ? { lastSeenAt, expiresAt } : { lastSeenAt })
        .where(eq(sessions.id, id))
        .run();
    },
    /** Records activity of the end-to-end device a session speaks for ("last seen"). */
    touchDevice(deviceId: string, lastSeenAt: Date): void {
      db.update(devices).set({ lastSeenAt }).where(eq(devices.id, deviceId)).run();
    },
    /** Deletes the user's sessions bound to these devices (revoked); returns the ids deleted. */
    deleteForDevices(userId: string, deviceIds: string[]): string[] {
      if (deviceIds.length === 0) return [];
      return db
        .delete(sessions)
        .where(and(eq(sessions.userId, userId), inArray(sessions.deviceId, deviceIds)))
        .returning({ id: sessions.id })
        .all()
        .map((row) => row.id);
    },
    /** Binds a session to the end-to-end device it speaks for. */
    setDevice(id: string, deviceId: string): void {
      db.update(sessions).set({ deviceId }).where(eq(sessions.id, id)).run();
    },
    delete(id: string): void {
      db.delete(sessions).where(eq(sessions.id, id)).run();
    },
    /** Deletes one of a user's sessions; returns whether it existed and was theirs. */
    deleteForUser(userId: string, id: string): boolean {
      return (
        db
          .delete(sessions)
          .where(and(eq(sessions.id, id), eq(sessions.userId, userId)))
          .run().changes > 0
      );
    },
    /** Deletes all of a user's sessions but `keepId`; returns the ids deleted. */
    deleteOthers(userId: string, keepId: string): string[] {
      return db
        .delete(sessions)
        .where(and(eq(sessions.userId, userId), ne(sessions.id, keepId)))
        .returning({ id: sessions.id })
        .all()
        .map((row) => row.id);
    },
    listForUser(userId: string): Session[] {
      return db
        .select()
        .from(sessions)
        .where(eq(sessions.userId, userId))
        .orderBy(desc(sessions.lastSeenAt))
        .all();
    },
    /** Removes expired sessions; returns how many. */
    deleteExpired(now: Date): number {
      return db.delete(sessions).where(lt(sessions.expiresAt, now)).run().changes;
    },
  };
}

export type SessionQueries = ReturnType<typeof createSessionQueries>;
