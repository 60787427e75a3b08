import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const boolean = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

const positiveInt = (max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}, 'each entry must be an origin such as https://chat.example.com (scheme, host, optional port; no path)');

/** The environment variables the server reads, with defaults; see the README's table. */
const envSchema = z.object({
  PORT: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(3000),
  HOST: z.string().min(1, 'must not be empty').default('0.0.0.0'),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(origin)),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  SECURE_COOKIES: boolean.default(false),
  TRUST_PROXY: boolean.default(false),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  WEB_DIST: z.string().optional(),
  MAX_BODY_BYTES: positiveInt(64 * 1024 * 1024).default(1024 * 1024),
  MAX_WS_FRAME_BYTES: positiveInt(64 * 1024 * 1024).default(1024 * 1024),
  MAX_BATCH_SIZE: positiveInt(1000).default(50),
  MAX_SUBSCRIPTIONS: positiveInt(1000).default(10),
  RATE_LIMIT_PER_MINUTE: positiveInt(1_000_000).default(1200),
  MAX_FILE_BYTES: positiveInt(64 * 1024 * 1024 * 1024).default(100 * 1024 * 1024),
  FILE_QUOTA_BYTES: positiveInt(Number.MAX_SAFE_INTEGER).default(2 * 1024 * 1024 * 1024),
  DEMO: boolean.default(false),
  HEADERS_TIMEOUT_MS: positiveInt(10 * 60_000).default(20_000),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt(10 * 60_000).default(5_000),
  WS_PING_MS: positiveInt(10 * 60_000).default(30_000),
  WS_PONG_WAIT_MS: positiveInt(10 * 60_000).default(10_000),
});

export type Env = z.infer<typeof envSchema>;

/** Configuration resolved from the environment: what `createServer` takes. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  allowedOrigins: string[];
  logLevel: Env['LOG_LEVEL'];
  secureCookies: boolean;
  trustProxy: boolean;
  development: boolean;
  /** The built web app to serve, or null to serve the API only. */
  webDist: string | null;
  demo: boolean;
  limits: {
    maxBodyBytes: number;
    maxWsFrameBytes: number;
    maxBatchSize: number;
    maxSubscriptions: number;
    ratePerMinute: number;
    /** Largest encrypted file (ciphertext bytes). */
    maxFileBytes: number;
    /** Bytes of files one user may keep. */
    fileQuotaBytes: number;
  };
  /** How long slow or silent peers are waited for. */
  timeouts: {
    /** A request's headers must arrive within this (slowloris). */
    headersMs: number;
    /** An idle keep-alive HTTP connection is closed after this. */
    keepAliveMs: number;
    /** A WebSocket silent for this long is sent a PING… */
    wsPingMs: number;
    /** …and closed when no message follows within this. */
    wsPongWaitMs: number;
  };
}

/** A bad environment variable: the message names the variable and says what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set", so defaults apply.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `${String(issue.path[0] ?? 'environment')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    allowedOrigins: e.ALLOWED_ORIGINS,
    logLevel: e.LOG_LEVEL,
    secureCookies: e.SECURE_COOKIES,
    trustProxy: e.TRUST_PROXY,
    development: e.NODE_ENV === 'development',
    webDist: e.WEB_DIST ? resolve(e.WEB_DIST) : null,
    demo: e.DEMO,
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxWsFrameBytes: e.MAX_WS_FRAME_BYTES,
      maxBatchSize: e.MAX_BATCH_SIZE,
      maxSubscriptions: e.MAX_SUBSCRIPTIONS,
      ratePerMinute: e.RATE_LIMIT_PER_MINUTE,
      maxFileBytes: e.MAX_FILE_BYTES,
      fileQuotaBytes: e.FILE_QUOTA_BYTES,
    },
    timeouts: {
      headersMs: e.HEADERS_TIMEOUT_MS,
      keepAliveMs: e.KEEP_ALIVE_TIMEOUT_MS,
      wsPingMs: e.WS_PING_MS,
      wsPongWaitMs: e.WS_PONG_WAIT_MS,
    },
  };
}

/**
 * The configuration for a server process: exits with the message naming every bad variable.
 * Without WEB_DIST it serves apps/web/dist when that has been built.
 */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  if (!config.webDist) {
    const built = fileURLToPath(new URL('../../web/dist', import.meta.url));
    if (existsSync(built)) config.webDist = built;
  }
  return config;
}
