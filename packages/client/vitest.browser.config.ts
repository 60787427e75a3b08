import { defineConfig } from 'vitest/config';
import { chromiumBrowser } from '../../vitest.chromium.ts';

// Browser-only parts of the client (IndexedDB key stores), run in Debian's Chromium.
export default defineConfig({
  test: {
    name: 'client:browser',
    include: ['src/**/*.browser.test.ts'],
    testTimeout: 120_000,
    browser: chromiumBrowser(),
  },
});
