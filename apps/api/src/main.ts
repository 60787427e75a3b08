import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startApp } from './app.ts';
import { ConfigError, loadConfig } from './env.ts';
import { createLogger } from './logger.ts';

// Composition root: the only place that reads process.env or installs signal handlers.
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
if (!config.webDist) {
  const built = fileURLToPath(new URL('../../web/dist', import.meta.url));
  if (existsSync(built)) config.webDist = built;
}

const logger = createLogger(config.logLevel);
const app = await startApp(config, logger);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ event: 'server.stopping', signal });
  await app.close();
  logger.info({ event: 'server.stopped' });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
