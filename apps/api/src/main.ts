import { startApp } from './app.ts';
import { loadConfigOrExit } from './env.ts';
import { stopOnSignals } from './lifecycle.ts';
import { createLogger } from './logger.ts';

// Composition root: the only place, with demo.ts, that reads process.env or handles signals.
const config = loadConfigOrExit(process.env);
const logger = createLogger(config.logLevel);
const app = await startApp(config, logger);
stopOnSignals(app, logger);
