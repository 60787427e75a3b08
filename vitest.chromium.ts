import { playwright } from '@vitest/browser-playwright';

/**
 * Vitest browser mode in Debian's Chromium (`CHROMIUM_PATH` overrides the path), for the
 * projects whose tests must also run in a browser. The flags keep a headless Chromium from
 * reaching for networks this machine does not have.
 */
export function chromiumBrowser() {
  return {
    enabled: true,
    headless: true,
    screenshotFailures: false,
    provider: playwright({
      launchOptions: {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
    instances: [{ browser: 'chromium' as const }],
  };
}
