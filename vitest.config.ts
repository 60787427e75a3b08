import { defineConfig } from 'vitest/config';

/** One Vitest run covers every workspace: each entry names a project's own config. */
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'packages/*/vitest.browser.config.ts',
      'apps/*/vitest.config.ts',
      // The reliability suite, then its canary scan, each in a group of its own (groupOrder).
      'apps/api/vitest.reliability.config.ts',
      'apps/api/vitest.reliability-scan.config.ts',
      'apps/*/vitest.unit.config.ts',
    ],
  },
});
