import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createClient, type SecureChatClient } from '@securechat/client';
import WebSocket from 'ws';
import { startApp, type App, type StartAppOptions } from '../src/app.ts';
import { loadConfig } from '../src/env.ts';
import { createLogger } from '../src/logger.ts';

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  /** Everything the server logged, one JSON line each. */
  logs: string[];
  close(): Promise<void>;
}

/** A server's configuration for tests: 127.0.0.1, port 0, data in `dataDir`, plus `env`. */
export function testConfig(dataDir: string, env: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    ...env,
  });
}

/** Starts a real server on 127.0.0.1, port 0, with its own SQLite file in a temp directory. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: StartAppOptions = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'securechat-test-'));
  const config = testConfig(dataDir, env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  const app = await startApp(config, createLogger(config.logLevel, sink), options);
  const url = `http://127.0.0.1:${app.port}`;
  return {
    app,
    url,
    dataDir,
    logs,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A username unique within this test run. */
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export const PASSWORD = 'correct horse battery staple';

/** A bearer-mode client (Node) using the `ws` WebSocket. */
export function nodeClient(url: string, token?: string): SecureChatClient {
  return createClient({
    url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    ...(token ? { token } : {}),
  });
}

/** A fetch that keeps cookies like a browser would, for testing cookie sessions. */
export function cookieJarFetch(origin?: string): typeof fetch & { cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  const jarFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    if (origin) headers.set('origin', origin);
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const expired = attributes.some((a) => a.trim().toLowerCase() === 'max-age=0');
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  }) as typeof fetch & { cookies: Map<string, string> };
  jarFetch.cookies = cookies;
  return jarFetch;
}

/** Resolves when `check` returns true, polling; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  timeoutMs = 2000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
