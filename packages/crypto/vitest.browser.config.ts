import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { chromiumBrowser } from '../../vitest.chromium.ts';

// The same test files as the Node project, run in Debian's Chromium.
export default defineConfig({
  server: {
    // The Wycheproof vectors live in ../shared beside the checkout.
    fs: { allow: [fileURLToPath(new URL('../../..', import.meta.url))] },
  },
  test: {
    name: 'crypto:browser',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    browser: chromiumBrowser(),
  },
});
