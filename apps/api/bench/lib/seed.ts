import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  commitEpoch,
  createConversation,
  createDb,
  createSessionQueries,
  insertUser,
  lastEventId,
  publishDeviceList,
  runMigrations,
  upsertDevice,
  type Db,
} from '@securechat/db';
import {
  generateSessionToken,
  sessionIdFromToken,
  SESSION_TTL_MS,
} from '../../src/auth/sessions.ts';

/**
 * Benchmark setup straight into the server's SQLite file, before the server starts: only
 * delivery is measured, and registering 10,000 users through the API would cost 10,000 Argon2
 * hashes. Every row is what the API itself would have written for a registered user with one
 * device (random opaque key material, as in test/fixtures.ts), a session bound to that device,
 * and conversations whose first epoch is committed. Nobody signs in with a password, so the hash
 * column holds a marker that no password verifies against.
 */
export interface SeededUser {
  id: string;
  deviceId: string;
  /** The bearer token (the database holds only its SHA-256). */
  token: string;
}

export interface SeededConversation {
  id: string;
  /** The committed epoch messages must be sent under. */
  epoch: number;
  members: SeededUser[];
}

const hex16 = () => randomBytes(16).toString('hex');

function seedUsers(db: Db, count: number, prefix: string, now: Date): SeededUser[] {
  const sessions = createSessionQueries(db);
  const users: SeededUser[] = [];
  for (let i = 0; i < count; i++) {
    const id = hex16();
    const deviceId = hex16();
    const token = generateSessionToken();
    insertUser(db, {
      id,
      username: `${prefix}${i}`,
      passwordHash: 'bench-seeded-no-password',
      createdAt: now,
    });
    publishDeviceList(
      db,
      { userId: id, version: 1, signingKey: randomBytes(32), list: randomBytes(200) },
      false,
      now,
    );
    upsertDevice(db, { id: deviceId, userId: id, cert: randomBytes(150) }, now);
    const sessionId = sessionIdFromToken(token);
    sessions.insert({
      id: sessionId,
      userId: id,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
      userAgent: 'securechat-bench',
    });
    sessions.setDevice(sessionId, deviceId);
    users.push({ id, deviceId, token });
  }
  return users;
}

function seedConversation(
  db: Db,
  kind: 'group' | 'direct',
  members: SeededUser[],
  now: Date,
): SeededConversation {
  const id = hex16();
  const creator = members[0]!;
  const sorted = members.map((m) => m.id).sort();
  createConversation(
    db,
    {
      id,
      kind,
      uniqueKey: kind === 'direct' ? `direct:${sorted[0]}:${sorted[1]}` : null,
      createdBy: creator.id,
      members: members.map((m, i) => ({ userId: m.id, role: i === 0 ? 'admin' : 'member' })),
    },
    now,
  );
  const result = commitEpoch(
    db,
    {
      conversationId: id,
      expectedEpoch: null,
      roster: randomBytes(300),
      committedByUser: creator.id,
      committedByDevice: creator.deviceId,
      add: [],
      remove: [],
      envelopes: members.slice(1).map((m) => ({
        recipientUserId: m.id,
        recipientDeviceId: m.deviceId,
        envelope: randomBytes(200),
      })),
    },
    () => {},
    now,
  );
  if (!result.ok) throw new Error(`seeding: first commit failed (${result.reason})`);
  return { id, epoch: result.epoch, members };
}

/**
 * Creates the database in `dataDir` (migrated, as the server would) with `groups` group
 * conversations of `groupSize` members and `directPairs` direct conversations between fresh users.
 */
export function seed(
  dataDir: string,
  plan: { groupSize?: number; directPairs?: number },
): {
  groups: SeededConversation[];
  directs: SeededConversation[];
  /** The newest event after seeding: clients resume from it, as a device that is caught up. */
  lastEventId: number;
  ms: number;
} {
  const started = Date.now();
  const handle = createDb(join(dataDir, 'securechat.db'));
  runMigrations(handle.db);
  // This connection only seeds; the server opens its own with synchronous=FULL.
  handle.sqlite.pragma('synchronous = OFF');
  const now = new Date();
  const out = handle.sqlite.transaction(() => {
    const groups: SeededConversation[] = [];
    const directs: SeededConversation[] = [];
    if (plan.groupSize) {
      const users = seedUsers(handle.db, plan.groupSize, 'group', now);
      groups.push(seedConversation(handle.db, 'group', users, now));
    }
    if (plan.directPairs) {
      const users = seedUsers(handle.db, plan.directPairs * 2, 'direct', now);
      for (let i = 0; i < plan.directPairs; i++) {
        directs.push(
          seedConversation(handle.db, 'direct', [users[2 * i]!, users[2 * i + 1]!], now),
        );
      }
    }
    return { groups, directs, lastEventId: lastEventId(handle.db) };
  })();
  handle.close();
  return { ...out, ms: Date.now() - started };
}
