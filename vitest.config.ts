import { defineConfig } from 'vitest/config';

/** One Vitest run covers every workspace: each entry names a project's own config. */
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'packages/*/vitest.browser.config.ts',
      'apps/*/vitest.config.ts',
    ],
  },
});
