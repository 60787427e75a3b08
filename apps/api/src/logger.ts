import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach them: the server logs no request bodies or
 * headers, and these paths are censored wherever an object carrying them is logged anyway.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'password',
          'current',
          'next',
          'token',
          '*.password',
          '*.token',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          'connectionParams',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
