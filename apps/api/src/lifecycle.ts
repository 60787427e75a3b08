import type { App } from './app.ts';
import type { Logger } from './logger.ts';

/** Stops the app gracefully on SIGTERM or SIGINT, then exits. */
export function stopOnSignals(app: App, logger: Logger): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'server.stopping', signal });
    await app.close();
    logger.info({ event: 'server.stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
