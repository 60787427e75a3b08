import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContextOptions,
  type Locator,
  type Page,
} from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { encode } from 'uqr';
import { expect } from 'vitest';
import { chromiumLaunchOptions } from '../../../vitest.chromium.ts';

/** apps/web */
export const webDir = fileURLToPath(new URL('..', import.meta.url));
/** The repository root. */
export const repoDir = join(webDir, '..', '..');
export const apiDir = join(repoDir, 'apps', 'api');
export const webDist = join(webDir, 'dist');
/** Where the browser tests save their screenshots. */
export const screenshots = join(repoDir, 'test-results', 'screenshots');

/** Builds apps/web into dist with Vite, as `pnpm start` does, so the server serves current code. */
export async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, and Vite lets an existing NODE_ENV win over the build mode, which
  // would ship React's development build. Build exactly what production serves.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: webDir, mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

export interface ServerProcess {
  url: string;
  /** Everything the server printed, for diagnosing a failure. */
  output: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real API server (apps/api/src/main.ts) as its own process on a free port, with a
 * fresh data directory and the built web app, and waits for its `server.listening` log line.
 * `env` adds to or overrides the server's environment (e.g. a lower `MAX_FILE_BYTES`).
 */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'securechat-web-e2e-'));
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: apiDir,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEB_DIST: webDist,
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      ALLOWED_ORIGINS: '',
      SECURE_COOKIES: 'false',
      DEMO: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: child.stdout! });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start within 60 s')), 60_000);
      lines.on('line', (line) => {
        output.push(line);
        try {
          const entry = JSON.parse(line) as { event?: string; port?: number };
          if (entry.event === 'server.listening' && typeof entry.port === 'number') {
            clearTimeout(timer);
            resolve(entry.port);
          }
        } catch {
          // Not a JSON log line (e.g. a warning from Node): keep it for diagnostics only.
        }
      });
      void exited.then(([code, signal]) => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening (code ${code}, signal ${signal})`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, output, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.join('\n')}`);
  }
}

/**
 * Launches the headless Chromium the browser tests drive, with a folder for their screenshots.
 * With `fakeCamera`, pages see one camera (allowed without asking) that plays that Y4M file, read
 * when a page starts the camera: see {@link writeQrVideo}.
 */
export function launchChromium(options: { fakeCamera?: string } = {}): Promise<Browser> {
  mkdirSync(screenshots, { recursive: true });
  const camera = options.fakeCamera
    ? [
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${options.fakeCamera}`,
      ]
    : [];
  return chromium.launch({
    ...chromiumLaunchOptions,
    args: [...chromiumLaunchOptions.args, ...camera],
    headless: true,
  });
}

/**
 * Writes a short Y4M video (the format Chromium's fake camera plays) of `text` as a QR code,
 * black on white in the middle of a 640 × 480 picture.
 */
export function writeQrVideo(path: string, text: string): void {
  const width = 640;
  const height = 480;
  const scale = 8;
  const { data, size } = encode(text, { ecc: 'M', border: 4 });
  const luma = Buffer.alloc(width * height, 235);
  const left = (width - size * scale) >> 1;
  const top = (height - size * scale) >> 1;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      if (!data[row]![column]) continue;
      for (let dy = 0; dy < scale; dy++) {
        const start = (top + row * scale + dy) * width + left + column * scale;
        luma.fill(16, start, start + scale);
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  writeFileSync(
    path,
    Buffer.concat([
      Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`),
      frame,
      frame,
    ]),
  );
}

const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

/** A desktop browser in light mode. */
export const DESKTOP: BrowserContextOptions = {
  viewport: { width: 1280, height: 800 },
  colorScheme: 'light',
};

/** A phone in dark mode, whose Android user agent names its session "Chrome on Android". */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  colorScheme: 'dark',
  userAgent: PHONE_UA,
};

/** Opens a page in a new context: its own profile, so its own device with its own IndexedDB. */
export async function openPage(browser: Browser, options: BrowserContextOptions): Promise<Page> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(20_000);
  return context.newPage();
}

/**
 * Collects uncaught page errors and CSP violations of the pages given to `watch`: the app must
 * run under the server's strict CSP.
 */
export function problemWatcher(): { problems: string[]; watch(page: Page, name: string): Page } {
  const problems: string[] = [];
  const watch = (page: Page, name: string): Page => {
    page.on('pageerror', (error) => problems.push(`${name}: uncaught ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
        problems.push(`${name}: ${message.text()}`);
      }
    });
    return page;
  };
  return { problems, watch };
}

export async function expectVisible(locator: Locator, timeout = 15_000): Promise<void> {
  await expect.poll(() => locator.isVisible(), { timeout }).toBe(true);
}

export function heading(page: Page, name: string, level = 1): Locator {
  return page.getByRole('heading', { level, name, exact: true });
}

export function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message composer' });
}

/**
 * A message in the open conversation, found by its own text (a paragraph), not by a quote of it
 * in a reply.
 */
export function message(page: Page, text: string): Locator {
  return page
    .getByRole('feed')
    .getByRole('article')
    .filter({ has: page.getByRole('paragraph').filter({ hasText: text }) });
}

/**
 * Saves a screenshot of the viewport (or the whole page) under `screenshots`, and audits what it
 * shows: every screen the tests photograph must pass axe's WCAG 2.1 A and AA rules.
 */
export async function snap(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage });
  expect(await accessibilityViolations(page), `accessibility of ${name}`).toEqual([]);
}

/** Fills the username and password on the sign-in or register page and submits it. */
export async function submitCredentials(
  page: Page,
  username: string,
  password: string,
  button: 'Sign in' | 'Create account',
): Promise<void> {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: button, exact: true }).click();
}

/**
 * Registers, sets up encryption, confirms the recovery key was saved, and waits for the (empty)
 * conversation list.
 */
export async function registerAndSetUp(
  page: Page,
  serverUrl: string,
  username: string,
  password: string,
  timeout = 15_000,
): Promise<void> {
  await page.goto(`${serverUrl}/register`);
  await submitCredentials(page, username, password, 'Create account');
  await page.getByRole('button', { name: 'Set up encryption' }).click();
  await page.getByLabel('I have saved my recovery key somewhere safe').check();
  await page.getByRole('button', { name: 'Continue to chats' }).click();
  await expectVisible(heading(page, 'Chats'), timeout);
  await expectVisible(page.getByText('No conversations yet'), timeout);
}

/** Starts a direct conversation with `other` from the conversation list and waits for it to open. */
export async function startConversation(
  page: Page,
  other: string,
  timeout = 15_000,
): Promise<void> {
  await page.getByRole('button', { name: 'New conversation' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New conversation' });
  await dialog.getByLabel('Username').fill(other);
  await dialog.getByRole('button', { name: 'Start conversation' }).click();
  await expectVisible(heading(page, other, 2), timeout);
}

/** Sends `text` from the composer of the open conversation and waits for it to show. */
export async function send(page: Page, text: string, timeout = 15_000): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await expectVisible(message(page, text), timeout);
}

/** Opens a section of the app from the main navigation. */
export async function openSection(
  page: Page,
  name: 'Chats' | 'Calendar' | 'Settings',
): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
}

export function openChats(page: Page): Promise<void> {
  return openSection(page, 'Chats');
}

export async function openConversation(page: Page, title: string | RegExp): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: title })
    .click();
}

/**
 * What axe finds against WCAG 2.1 A and AA on the page as it is now: one line per element, with
 * the rule, the element and what to fix.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return violations.flatMap((v) =>
    v.nodes
      // FullCalendar's time grid scrolls in an element of its own, which holds nothing focusable
      // when the range has no events. Chromium and Firefox let the keyboard scroll such a region
      // all the same, and FullCalendar 7 lists this finding as a false positive.
      .filter((n) => !(v.id === 'scrollable-region-focusable' && n.html.includes('fc-')))
      .map((n) => `${v.id}: ${n.target.join(' ')}: ${n.failureSummary ?? v.help}`),
  );
}
