import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { users, type NewUser, type User } from '../schema/index.ts';

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error as { code: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** Inserts a user; returns null when the username is taken in any letter case. */
export function insertUser(db: Db, user: NewUser): User | null {
  try {
    return db.insert(users).values(user).returning().get();
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** The user with this username, compared case-insensitively (served by the lower() index). */
export function userByUsername(db: Db, username: string): User | undefined {
  return db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.toLowerCase()))
    .get();
}

export function userById(db: Db, id: string): User | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function updatePasswordHash(db: Db, userId: string, passwordHash: string): void {
  db.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
}

/** Updates privacy settings; returns the settings after the change. */
export function updateUserSettings(
  db: Db,
  userId: string,
  settings: { sendReadReceipts?: boolean | undefined; sendTyping?: boolean | undefined },
): { sendReadReceipts: boolean; sendTyping: boolean } {
  const set = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  const columns = { sendReadReceipts: users.sendReadReceipts, sendTyping: users.sendTyping };
  // Drizzle throws on an empty `set`, so a change of nothing is a read.
  const row =
    Object.keys(set).length > 0
      ? db.update(users).set(set).where(eq(users.id, userId)).returning(columns).get()
      : db.select(columns).from(users).where(eq(users.id, userId)).get();
  return row!;
}
