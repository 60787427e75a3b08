import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = `${root}packages/client/examples/two-services.ts`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('the README example', () => {
  it('is the example file, word for word', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(readme).toContain(readFileSync(example, 'utf8').trim());
  });

  it('runs: two services exchange an encrypted message through a real server', async () => {
    // Asynchronously: the server under test lives in this process.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', example],
      {
        cwd: `${root}packages/client`,
        env: { ...process.env, SECURECHAT_URL: server.url },
        timeout: 60_000,
      },
    );
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^reporter-[0-9a-f]{8} says: nightly build: green$/m);
  });
});
