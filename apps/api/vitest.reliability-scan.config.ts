import { defineConfig } from 'vitest/config';

/**
 * The last step of the reliability suite: the canary scan reads every file the suite's servers
 * wrote, so it runs after the `reliability` project has finished (a later groupOrder).
 */
export default defineConfig({
  test: {
    name: 'reliability-scan',
    include: ['reliability/canary-scan.test.ts'],
    globalSetup: ['reliability/global-setup.ts'],
    fileParallelism: false,
    sequence: { groupOrder: 2 },
    testTimeout: 10 * 60_000,
  },
});
