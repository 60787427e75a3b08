import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createDb, createSessionQueries, runMigrations } from '@securechat/db';
import { createDummyHash } from './auth/password.ts';
import { createSessionService } from './auth/sessions.ts';
import { createLoginThrottle, type ThrottleLimits } from './auth/throttle.ts';
import type { Config } from './env.ts';
import { createEventBus } from './events/bus.ts';
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

  const server = await startServer({
    config,
    db: database.db,
    logger,
    sessions,
    throttle,
    rateLimiter,
    bus,
    connections: createConnectionRegistry(),
    dummyPasswordHash: await createDummyHash(),
  });

  const housekeeping = setInterval(() => {
    throttle.sweep();
    rateLimiter.sweep();
    sessions.deleteExpired();
  }, 60_000);
  housekeeping.unref();

  return {
    ...server,
    databasePath,
    async close() {
      clearInterval(housekeeping);
      await server.close();
      database.close();
    },
  };
}
