import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'web',
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    // A real build, a real server and a real browser: slow on a shared machine, so be generous.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
