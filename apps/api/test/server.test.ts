import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, nodeClient, startTestServer, uniqueName, type TestServer } from './harness.ts';

let server: TestServer;
let webDist: string;
beforeAll(async () => {
  webDist = mkdtempSync(join(tmpdir(), 'securechat-web-'));
  mkdirSync(join(webDist, 'assets'));
  writeFileSync(
    join(webDist, 'index.html'),
    '<!doctype html><title>SecureChat</title><div id="root"></div>',
  );
  writeFileSync(join(webDist, 'assets', 'app-1234.js'), 'console.log(1)');
  server = await startTestServer({ WEB_DIST: webDist });
});
afterAll(async () => {
  await server.close();
  rmSync(webDist, { recursive: true, force: true });
});

describe('http', () => {
  it('answers /healthz with 200 {"status":"ok"}', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the web app with security headers and falls back to index.html for app routes', async () => {
    for (const path of ['/', '/settings', '/conversations/abc']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<div id="root">');
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('answers unknown API paths as JSON 404s, not the app shell', async () => {
    const response = await fetch(`${server.url}/trpc/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
  });

  it('never writes tokens, passwords or cookies to the log', async () => {
    const username = uniqueName('logcanary');
    const client = nodeClient(server.url);
    await client.auth.register(username, PASSWORD);
    await nodeClient(server.url)
      .auth.login(username, 'wrong password canary')
      .catch(() => {});
    await client.api.auth.me.query();
    const logs = server.logs.join('\n');
    expect(logs).toContain('user.registered');
    expect(logs).not.toContain(client.token!);
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain('wrong password canary');
  });
});
