import { playwright } from '@vitest/browser-playwright';

/**
 * How to launch Debian's Chromium (`CHROMIUM_PATH` overrides the path). The flags keep a headless
 * Chromium from reaching for networks this machine does not have.
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

/** Vitest browser mode in that Chromium, for the projects whose tests must also run in a browser. */
export function chromiumBrowser() {
  return {
    enabled: true,
    headless: true,
    screenshotFailures: false,
    provider: playwright({ launchOptions: chromiumLaunchOptions }),
    instances: [{ browser: 'chromium' as const }],
  };
}
