import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  contactsOf,
  createDb,
  createSessionQueries,
  deleteExpiredLinkRequests,
  memberIdsOf,
  runMigrations,
} from '@securechat/db';
import { createDummyHash } from './auth/password.ts';
import { createSessionService } from './auth/sessions.ts';
import { createLoginThrottle, type ThrottleLimits } from './auth/throttle.ts';
import type { Config } from './env.ts';
import { createEventBus } from './events/bus.ts';
import { createHub, type Hub } from './events/hub.ts';
import { createMessageWriter } from './routers/messages/message-writer.ts';
import { createReminderScheduler } from './routers/calendar/reminders.ts';
import { createBlobStore } from './files/blob-store.ts';
import { cleanUpFiles } from './files/cleanup.ts';
import type { Logger } from './logger.ts';
import { startServer, type RunningServer } from './server.ts';
import { createRateLimiter } from './trpc/rate-limit.ts';
import { createConnectionRegistry } from './ws/connections.ts';

export interface App extends RunningServer {
  /** The SQLite file in use. */
  databasePath: string;
}

export interface StartAppOptions {
  throttleLimits?: ThrottleLimits;
  /** The clock calendar reminders fire by (tests move it). */
  clock?: () => Date;
}

/**
 * Opens the database (applying migrations), builds every long-lived object and starts the
 * server. main.ts calls this with the environment's config; tests call it with their own.
 */
export async function startApp(
  config: Config,
  logger: Logger,
  options: StartAppOptions = {},
): Promise<App> {
  mkdirSync(config.dataDir, { recursive: true });
  const databasePath = join(config.dataDir, 'securechat.db');
  const database = createDb(databasePath);
  runMigrations(database.db);

  const sessions = createSessionService(createSessionQueries(database.db));
  const throttle = createLoginThrottle(options.throttleLimits);
  const rateLimiter = createRateLimiter(config.limits.ratePerMinute);
  const bus = createEventBus((error) => logger.error({ err: error }, 'event listener failed'));
  const db = database.db;
  const hub: Hub = createHub({
    membersOf: (conversationId) => memberIdsOf(db, conversationId),
    // Presence goes to the people who share a conversation with the user, and nobody else.
    onPresence: (userId, online) =>
      hub.publishEphemeral(
        { type: 'presence', userId, online },
        { userIds: contactsOf(db, userId) },
      ),
  });

  const blobs = createBlobStore(config.dataDir);
  await blobs.init();
  await cleanUpFiles(db, blobs, logger);

  const reminders = createReminderScheduler({
    db,
    hub,
    logger,
    ...(options.clock ? { now: options.clock } : {}),
  });

  const server = await startServer({
    config,
    db: database.db,
    logger,
    sessions,
    throttle,
    rateLimiter,
    bus,
    connections: createConnectionRegistry(),
    hub,
    messageWriter: createMessageWriter(db, hub),
    reminders,
    blobs,
    dummyPasswordHash: await createDummyHash(),
  });

  let minutes = 0;
  const housekeeping = setInterval(() => {
    throttle.sweep();
    rateLimiter.sweep();
    sessions.deleteExpired();
    deleteExpiredLinkRequests(db, new Date());
    if (++minutes % 10 === 0) {
      cleanUpFiles(db, blobs, logger).catch((error: unknown) =>
        logger.error({ err: error }, 'file cleanup failed'),
      );
    }
  }, 60_000);
  housekeeping.unref();
  reminders.start();

  return {
    ...server,
    databasePath,
    async close() {
      clearInterval(housekeeping);
      reminders.stop();
      await server.close();
      database.close();
    },
  };
}
