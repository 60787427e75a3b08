import { defineConfig } from 'vitest/config';

/** Unit tests of apps/web's pure modules (no browser, no server). */
export default defineConfig({
  test: {
    name: 'web-unit',
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
