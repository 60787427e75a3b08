import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'web',
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    // Builds apps/web once for every browser test file.
    globalSetup: ['e2e/global-setup.ts'],
    // Each file starts a server and a Chromium: one file at a time on a shared machine.
    fileParallelism: false,
    // A real build, a real server and a real browser: slow on a shared machine, so be generous.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // A page that reloads decrypts everything again before it shows it: give polls 10 s, not 1.
    expect: { poll: { timeout: 10_000 } },
  },
});
